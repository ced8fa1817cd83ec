/**
 * The HXO engine end to end: real kernels in temp data dirs, real worker
 * threads, real LMDB checkpoints.
 *
 * - the 1k blueprint certifies, its report verifies offline, and one changed
 *   hex character (proof path, root, signature) is caught;
 * - the root does not depend on the pool size or the run, and equals the root
 *   recomputed here from the spec;
 * - the event stream: hxo.plan first, shard events batched and ordered per
 *   shard, aggregate ready → certify → finalized, an audit record;
 * - user job kinds: retries, typed errors, sync and async hangs (the pool
 *   survives them);
 * - memoization across plans; plan validation that writes nothing; abort.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPlanFile, parsePlanText } from '../../src/hxo/plan/plan.ts';
import { PlanError, PlanNotFoundError } from '../../src/hxo/engine-errors.ts';
import { verifyReport } from '../../src/hxo/certify/verify-report.ts';
import type { PlanReport } from '../../src/hxo/report.ts';
import type { PlanRecord } from '../../src/hxo/engine.ts';
import { checkpointDb } from '../../src/hxo/checkpoints/checkpoint-records.ts';
import { waitFor } from '../kernel/helpers.ts';
import {
  BLUEPRINTS,
  checkpointKeys,
  computeHashPlan,
  flakyPlan,
  flipHex,
  planEvents,
  specCasId,
  specComputeHashRoot,
  specComputeHashShard,
  nodesOfFile,
  type TestNode,
} from './helpers.ts';

const BLUEPRINT_1K = join(BLUEPRINTS, 'compute-hash-1k.yaml');

const node = nodesOfFile();

async function run(n: TestNode, plan: unknown): Promise<PlanReport> {
  const { finished } = await n.engine.submit(plan, { baseDir: BLUEPRINTS });
  return finished;
}

describe('the 1k blueprint', () => {
  let n: TestNode;
  let planId: string;
  let report: PlanReport;

  beforeAll(async () => {
    n = await node();
    const submitted = await n.engine.submit(readPlanFile(BLUEPRINT_1K), { baseDir: BLUEPRINTS });
    planId = submitted.planId;
    expect(submitted.plan.totalShards).toBe(1000);
    report = await submitted.finished;
    await n.kernel.bus.flushed();
  });

  it('ends certified with every report field, and verifies offline', () => {
    expect(report.plan_id).toBe(planId);
    expect(report.plan_name).toBe('compute-hash-1k');
    expect(report.state).toBe('certified');
    expect(report.truth_certified).toBe(true);
    expect(report).toMatchObject({ total_shards: 1000, done_shards: 1000, failed_shards: 0, reused_shards: 0, failed: [] });
    expect(report.stages).toHaveLength(1);
    const stage = report.stages[0];
    expect(stage).toMatchObject({ stage_id: 'hash', kind: 'compute.hash', total_shards: 1000, done_shards: 1000, failed_shards: 0, reused_shards: 0 });
    expect(stage?.slo_ms).toBeGreaterThan(0);
    expect(typeof stage?.slo_met).toBe('boolean');
    expect(stage?.p50_ms).toBeGreaterThanOrEqual(0);
    expect(stage?.p95_ms).toBeGreaterThanOrEqual(stage?.p50_ms ?? 0);
    expect(stage?.duration_ms).toBeGreaterThanOrEqual(0);
    expect(report.merkle_root).toMatch(/^[0-9a-f]{64}$/);
    expect(report.certificate).toMatchObject({ certified: true, merkle_root: report.merkle_root, total_shards: 1000 });
    expect(report.certificate?.signature).toMatch(/^[0-9a-f]{128}$/);
    expect(report.certificate?.public_key).toMatch(/^[0-9a-f]{64}$/);
    expect(report.sample_proofs.length).toBeGreaterThanOrEqual(16);
    const indices = new Set<number>();
    for (const p of report.sample_proofs) {
      expect(p.tree_size).toBe(1000);
      expect(p.leaf_index).toBeGreaterThanOrEqual(0);
      expect(p.leaf_index).toBeLessThan(1000);
      expect(p.root_hash).toBe(report.merkle_root);
      // Each sampled leaf is exactly the shard the spec puts at that index.
      const spec = specComputeHashShard(p.leaf_index);
      expect(p.leaf_cas_id).toBe(spec.cas_id);
      expect(p.output_digest).toBe(spec.output_digest);
      expect(p.leaf_hash).toBe(spec.leaf.toString('hex'));
      indices.add(p.leaf_index);
    }
    expect(indices.size).toBe(report.sample_proofs.length);
    for (const key of ['partition_ms', 'execute_ms', 'merkle_ms', 'certify_ms', 'total_ms'] as const) {
      expect(report.timings[key]).toBeGreaterThanOrEqual(0);
    }
    expect(report.timings.total_ms).toBeGreaterThanOrEqual(report.timings.execute_ms);
    expect(Date.parse(report.started_at)).not.toBeNaN();
    expect(Date.parse(report.finished_at ?? '')).toBeGreaterThanOrEqual(Date.parse(report.started_at));

    const verdict = verifyReport(report);
    expect(verdict.errors).toEqual([]);
    expect(verdict.ok).toBe(true);
    expect(verdict.checked).toEqual({ signature: true, proofs: report.sample_proofs.length });
    // The report survives a JSON round trip (what `xyn verify` reads).
    expect(verifyReport(JSON.parse(JSON.stringify(report))).ok).toBe(true);
  });

  it('rejects a copy with one hex character changed in a proof path, the root or the signature', () => {
    const proofAt = report.sample_proofs.findIndex((p) => p.path.length > 0);
    expect(proofAt).toBeGreaterThanOrEqual(0);

    const a = structuredClone(report);
    const step = a.sample_proofs[proofAt]?.path[0] as { hash: string };
    step.hash = flipHex(step.hash, 7);
    const va = verifyReport(a);
    expect(va.ok).toBe(false);
    expect(va.errors).toContain(`sample_proofs[${proofAt}]: path does not lead to merkle_root`);
    expect(va.checked.signature).toBe(true);

    const b = structuredClone(report);
    b.merkle_root = flipHex(b.merkle_root as string, 0);
    const vb = verifyReport(b);
    expect(vb.ok).toBe(false);
    expect(vb.errors).toContain('certificate.merkle_root: differs from merkle_root');
    expect(vb.checked.proofs).toBe(0);

    const c = structuredClone(report);
    const cert = c.certificate as NonNullable<PlanReport['certificate']>;
    cert.signature = flipHex(cert.signature, 20);
    const vc = verifyReport(c);
    expect(vc.ok).toBe(false);
    expect(vc.checked.signature).toBe(false);
    expect(vc.errors.some((e) => e.startsWith('certificate.signature:'))).toBe(true);
    // Nothing else about it is wrong.
    expect(vc.errors).toHaveLength(1);
  });

  it('keeps the report, and status agrees with it', () => {
    expect(n.engine.report(planId)).toEqual(report);
    expect(n.engine.status(planId)).toMatchObject({
      plan_id: planId,
      state: 'certified',
      total_shards: 1000,
      done_shards: 1000,
      pending_shards: 0,
      failed_shards: 0,
      merkle_root: report.merkle_root,
      truth_certified: true,
    });
    expect(() => n.engine.report('no-such-plan')).toThrow(PlanNotFoundError);
    // Every shard has exactly one checkpoint.
    expect(checkpointKeys(n, planId).map(({ planId, stage, shard }) => [planId, stage, shard])).toEqual(Array.from({ length: 1000 }, (_, i) => [planId, 0, i]));
  });

  it('publishes hxo.plan first, batched shard events in order per shard, then ready → certify → finalized, and audits the submit', async () => {
    const all = n.kernel.bus.queryHistory({ topic: 'hxo.>', limit: 100_000 });
    expect(all[0]?.event_name).toBe('hxo.plan');
    expect(all[0]?.data).toMatchObject({ plan_id: planId, plan_name: 'compute-hash-1k', stages: 1 });
    const mine = all.filter((e) => (e.data as { plan_id?: string }).plan_id === planId || (e.data as { details?: { plan_id?: string } }).details?.plan_id === planId);
    expect(mine[0]?.event_name).toBe('hxo.plan');

    // Shard events: batched, and for every shard created < claimed < done.
    const shardEvents = mine.filter((e) => e.event_name.startsWith('hxo.shard.'));
    const first = new Map<string, Map<string, number>>([
      ['hxo.shard.created', new Map()],
      ['hxo.shard.claimed', new Map()],
      ['hxo.shard.done', new Map()],
    ]);
    let position = 0;
    let items = 0;
    for (const e of shardEvents) {
      const data = e.data as { count: number; items: unknown[]; stage_id: string };
      expect(data.stage_id).toBe('hash');
      expect(Array.isArray(data.items)).toBe(true);
      expect(data.count).toBe(data.items.length);
      expect(data.count).toBeGreaterThan(0);
      const seen = first.get(e.event_name);
      expect(seen, `unexpected ${e.event_name}`).toBeDefined();
      for (const item of data.items) {
        const casId = typeof item === 'string' ? item : (item as { cas_id: string }).cas_id;
        expect(seen?.has(casId), `${casId} twice in ${e.event_name}`).toBe(false);
        seen?.set(casId, position++);
        items++;
      }
    }
    expect(items).toBe(3000);
    expect(shardEvents.length).toBeLessThan(items / 10); // batched, not one event per shard
    const expected = new Set(Array.from({ length: 1000 }, (_, i) => specComputeHashShard(i).cas_id));
    const created = first.get('hxo.shard.created') as Map<string, number>;
    const claimed = first.get('hxo.shard.claimed') as Map<string, number>;
    const done = first.get('hxo.shard.done') as Map<string, number>;
    expect(new Set(created.keys())).toEqual(expected);
    for (const casId of expected) {
      expect(created.get(casId)).toBeLessThan(claimed.get(casId) as number);
      expect(claimed.get(casId)).toBeLessThan(done.get(casId) as number);
    }
    // Done items carry the spec's output digest.
    const digests = new Map(Array.from({ length: 1000 }, (_, i) => specComputeHashShard(i)).map((s) => [s.cas_id, s.output_digest]));
    for (const e of shardEvents.filter((x) => x.event_name === 'hxo.shard.done')) {
      for (const item of (e.data as { items: { cas_id: string; output_digest: string }[] }).items) expect(item.output_digest).toBe(digests.get(item.cas_id));
    }

    const names = mine.map((e) => e.event_name);
    const ready = names.indexOf('hxo.aggregate.ready');
    const certify = names.indexOf('hxo.aggregate.certify');
    const finalized = names.indexOf('hxo.aggregate.finalized');
    expect(ready).toBeGreaterThan(names.lastIndexOf('hxo.shard.done'));
    expect(certify).toBeGreaterThan(ready);
    expect(finalized).toBeGreaterThan(certify);
    expect(names).not.toContain('hxo.aggregate.failed');
    expect(mine[ready]?.data).toMatchObject({ merkle_root: report.merkle_root, total_shards: 1000 });
    expect(mine[finalized]?.data).toMatchObject({ certificate: report.certificate });

    const audit = all.filter((e) => e.event_name === 'hxo.audit');
    expect(audit.some((e) => (e.data as { operation?: string; details?: { plan_id?: string } }).operation === 'plan.submit' && (e.data as { details: { plan_id?: string } }).details.plan_id === planId)).toBe(true);
    await n.kernel.audit.caughtUp();
    const records = n.kernel.audit.list({ operation: 'plan.submit' });
    expect(records.some((r) => r.details.plan_id === planId)).toBe(true);
    expect(n.kernel.audit.verify().ok).toBe(true);
  });
});

describe('the blueprints', () => {
  it('both validate: 1,000 and 1,000,000 compute.hash shards (by_range, hash, rounds 1) at their max_shards', async () => {
    const n = await node();
    for (const [file, total] of [
      ['compute-hash-1k.yaml', 1000],
      ['compute-hash-1m.yaml', 1_000_000],
    ] as const) {
      const raw = readPlanFile(join(BLUEPRINTS, file)) as { constraints: { max_shards: number } };
      expect(raw.constraints.max_shards).toBe(total);
      const plan = await n.engine.prepare(raw, BLUEPRINTS);
      expect(plan.totalShards).toBe(total);
      expect(plan.stages).toHaveLength(1);
      expect(plan.stages[0]).toMatchObject({ kind: 'compute.hash', partitioner: 'by_range', executor: 'hash', shardCount: total, config: { total, per_shard: 1, rounds: 1 } });
    }
    // prepare writes nothing.
    expect([...n.kernel.store.db('plans').getRange({})]).toEqual([]);
  });
});

describe('the Merkle root', () => {
  it('is the same for pool sizes 1 and 2, across runs, and equals the root computed from the spec', async () => {
    const plan = readPlanFile(BLUEPRINT_1K);
    const roots: string[] = [];
    for (const workers of ['1', '2', '2']) {
      const n = await node({ XYN_WORKERS: workers });
      expect(n.kernel.pool.size).toBe(Number(workers));
      const report = await run(n, plan);
      expect(report.state).toBe('certified');
      roots.push(report.merkle_root as string);
      await n.close();
    }
    const spec = specComputeHashRoot(1000);
    expect(roots).toEqual([spec, spec, spec]);
  });
});

describe('certification at tree sizes around the Merkle block edges', () => {
  it('1, 2, 3, 1023, 1024, 1025, 2048, 3073 shards: the spec root, and every sample proof verifies', async () => {
    const n = await node();
    for (const total of [1, 2, 3, 1023, 1024, 1025, 2048, 3073]) {
      const report = await run(n, computeHashPlan(`edge-${total}`, total, { memo: false }));
      expect(report.state, `${total} shards`).toBe('certified');
      expect(report.merkle_root, `${total} shards`).toBe(specComputeHashRoot(total));
      expect(report.sample_proofs).toHaveLength(Math.min(16, total));
      const verdict = verifyReport(report);
      expect(verdict.errors, `${total} shards`).toEqual([]);
      expect(verdict.checked.proofs).toBe(report.sample_proofs.length);
    }
  });
});

describe('user job kinds', () => {
  let n: TestNode;
  beforeAll(async () => {
    n = await node();
  });

  it('a shard that always throws is retried, then the plan fails, naming each shard, its error and attempts', async () => {
    const submitted = await n.engine.submit(flakyPlan('flaky-throws', 'throws', 5, { retries: 1, backoff_ms: 10 }), { baseDir: BLUEPRINTS });
    const report = await submitted.finished;
    expect(report.state).toBe('failed');
    expect(report.truth_certified).toBe(false);
    expect(report.merkle_root).toBeNull();
    expect(report.certificate).toBeNull();
    expect(report).toMatchObject({ total_shards: 5, done_shards: 0, failed_shards: 5 });
    const failed = [...report.failed].sort((x, y) => x.shard_index - y.shard_index);
    expect(failed).toEqual(
      Array.from({ length: 5 }, (_, i) => ({
        stage_id: 'flaky',
        shard_index: i,
        cas_id: specCasId('test.flaky', 'throws', { i }),
        error: `flaky shard ${i} failed on purpose`,
        error_class: 'FlakyShardError',
        error_code: 'FLAKY_SHARD',
        attempts: 2,
      })),
    );
    // The failures are checkpointed for good.
    expect(checkpointKeys(n, submitted.planId)).toHaveLength(5);

    await n.kernel.bus.flushed();
    const items = planEvents(n.kernel, 'hxo.shard.failed', submitted.planId).flatMap(
      (e) => (e.data as { items: { cas_id: string; attempt: number; final: boolean; error: string; error_class: string; error_code: string }[] }).items,
    );
    for (const f of failed) {
      const mine = items.filter((x) => x.cas_id === f.cas_id);
      expect(mine.map((x) => [x.attempt, x.final])).toEqual([
        [1, false],
        [2, true],
      ]);
      expect(mine.every((x) => x.error === f.error && x.error_class === 'FlakyShardError' && x.error_code === 'FLAKY_SHARD')).toBe(true);
    }
    const alerts = planEvents(n.kernel, 'hxo.alert', submitted.planId);
    expect(alerts.map((e) => (e.data as { alert_type: string }).alert_type)).toEqual(['shards_failed']);
  });

  it('an error that says no retry can help (NonRetryableError, or retryable: false) fails its shard on the first attempt, retries left or not', async () => {
    const submitted = await n.engine.submit(flakyPlan('flaky-refuses', 'refuses', 4, { retries: 3, backoff_ms: 10 }), { baseDir: BLUEPRINTS });
    const report = await submitted.finished;
    expect(report).toMatchObject({ state: 'failed', done_shards: 0, failed_shards: 4 });
    const failed = [...report.failed].sort((x, y) => x.shard_index - y.shard_index);
    expect(failed.map((f) => [f.attempts, f.error_class, f.error_code])).toEqual([
      [1, 'NonRetryableError', 'REFUSED'],
      [1, 'RangeError', 'ERROR'],
      [1, 'NonRetryableError', 'REFUSED'],
      [1, 'RangeError', 'ERROR'],
    ]);
    await n.kernel.bus.flushed();
    const items = planEvents(n.kernel, 'hxo.shard.failed', submitted.planId).flatMap((e) => (e.data as { items: { attempt: number; final: boolean }[] }).items);
    expect(items.map((x) => [x.attempt, x.final])).toEqual(Array.from({ length: 4 }, () => [1, true]));
  });

  it('a synchronous hang and an async hang time out; the killed thread is replaced and the pool keeps working', async () => {
    const sync = await run(n, flakyPlan('flaky-hangs-sync', 'hangs_sync', 2, { timeout_ms: 300, retries: 0 }));
    expect(sync.state).toBe('failed');
    expect(sync.truth_certified).toBe(false);
    expect(sync.failed_shards).toBe(2);
    expect(sync.failed.map((f) => [f.shard_index, f.error, f.attempts]).sort()).toEqual([
      [0, 'timeout after 0.3s', 1],
      [1, 'timeout after 0.3s', 1],
    ]);
    await waitFor(() => n.kernel.bus.queryHistory({ topic: 'xyn.kernel.worker.replaced' }).length >= 2, 10_000, 'two threads replaced');
    const killed = n.kernel.bus.queryHistory({ topic: 'xyn.kernel.worker.killed' });
    expect(killed.length).toBe(2);
    expect(killed[0]?.data).toMatchObject({ pool: 'shard-worker', reason: 'item ran past 300 ms' });

    const async = await run(n, flakyPlan('flaky-hangs-async', 'hangs_async', 2, { timeout_ms: 300, retries: 0 }));
    expect(async.state).toBe('failed');
    expect(async.failed.map((f) => [f.shard_index, f.error, f.attempts]).sort()).toEqual([
      [0, 'timeout after 0.3s', 1],
      [1, 'timeout after 0.3s', 1],
    ]);
    expect(async.failed.map((f) => f.cas_id).sort()).toEqual([0, 1].map((i) => specCasId('test.flaky', 'hangs_async', { i })).sort());

    // The pool still works: both threads run a plan to a certified end.
    const after = await run(n, computeHashPlan('after-hangs', 500));
    expect(after.state).toBe('certified');
    expect(after.merkle_root).toBe(specComputeHashRoot(500));
    const ok = await run(n, flakyPlan('flaky-ok', 'ok', 50));
    expect(ok.state).toBe('certified');
    expect(ok.done_shards).toBe(50);
    expect(n.kernel.pool.size).toBe(2);
  });
});

describe('memoization', () => {
  it('a bigger plan over the same shards reuses every output and gets the root of a fresh run', async () => {
    const a = await node();
    const first = await run(a, computeHashPlan('memo', 2000));
    expect(first).toMatchObject({ state: 'certified', reused_shards: 0, done_shards: 2000 });
    const second = await run(a, computeHashPlan('memo', 2500));
    expect(second.plan_id).not.toBe(first.plan_id);
    expect(second).toMatchObject({ state: 'certified', reused_shards: 2000, done_shards: 2500, total_shards: 2500 });
    expect(second.stages[0]?.reused_shards).toBe(2000);
    expect(verifyReport(second).ok).toBe(true);

    const b = await node();
    const fresh = await run(b, computeHashPlan('memo', 2500));
    expect(fresh).toMatchObject({ state: 'certified', reused_shards: 0, done_shards: 2500 });
    expect(second.merkle_root).toBe(fresh.merkle_root);
    expect(fresh.merkle_root).toBe(specComputeHashRoot(2500));

    // Reused shards are marked as such in their events and checkpoints.
    await a.kernel.bus.flushed();
    const doneItems = planEvents(a.kernel, 'hxo.shard.done', second.plan_id).flatMap((e) => (e.data as { items: { reused?: boolean }[] }).items);
    expect(doneItems).toHaveLength(2500);
    expect(doneItems.filter((x) => x.reused === true)).toHaveLength(2000);
    // With memo off nothing is reused.
    const off = await run(a, computeHashPlan('memo-off', 2500, { memo: false }));
    expect(off).toMatchObject({ state: 'certified', reused_shards: 0, merkle_root: fresh.merkle_root });
  });
});

describe('bad plans are refused, naming the field, and nothing is written', () => {
  let n: TestNode;
  beforeAll(async () => {
    n = await node();
  });

  const good = () => computeHashPlan('good', 10) as { name: string; stages: Record<string, unknown>[]; constraints: Record<string, unknown> };
  const cases: [string, () => unknown, string, RegExp][] = [
    ['unknown kind', () => ({ ...good(), stages: [{ ...good().stages[0], kind: 'compute.nope' }] }), 'stages[0].kind', /unknown job kind "compute\.nope"/],
    [
      'disallowed partitioner',
      () => ({ ...good(), modules: [join('..', 'test', 'fixtures', 'kinds', 'flaky-kind.ts')], stages: [{ ...good().stages[0], partitioner: 'by_count' }] }),
      'stages[0].partitioner',
      /"by_count" is not allowed for compute\.hash; allowed: by_range/,
    ],
    ['negative total', () => ({ ...good(), stages: [{ ...good().stages[0], config: { total: -1 } }] }), 'stages[0].config.total', /./],
    ['over constraints.max_shards', () => ({ ...good(), constraints: { max_shards: 9 } }), 'constraints.max_shards', /10 shards, over the limit of 9/],
    ['duplicate stage id', () => ({ ...good(), stages: [good().stages[0], good().stages[0]] }), 'stages[1].id', /"hash" is used twice/],
    ['bad stage timeout', () => ({ ...good(), stages: [{ ...good().stages[0], timeout_ms: 0 }] }), 'stages[0].timeout_ms', /./],
  ];

  function assertNothingWritten(t: TestNode): void {
    expect([...t.kernel.store.db('plans').getRange({})]).toEqual([]);
    expect([...checkpointDb(t.kernel.store).getRange({})]).toEqual([]);
    expect(t.kernel.bus.queryHistory({ topic: 'hxo.>', limit: 100_000 })).toEqual([]);
  }

  it.each(cases)('%s', async (_what, plan, field, rule) => {
    const err = await n.engine.submit(plan(), { baseDir: BLUEPRINTS }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PlanError);
    expect((err as PlanError).field).toBe(field);
    expect((err as PlanError).rule).toMatch(rule);
    await n.kernel.bus.flushed();
    assertNothingWritten(n);
  });

  it('an unknown top-level field', async () => {
    const err = await n.engine.submit({ ...good(), priority: 'high' }, { baseDir: BLUEPRINTS }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PlanError);
    expect((err as PlanError).field).toBe('priority');
    expect((err as PlanError).rule).toBe('unknown field "priority"');
    await n.kernel.bus.flushed();
    assertNothingWritten(n);
  });

  it('over HXO_MAX_SHARDS', async () => {
    const small = await node({ HXO_MAX_SHARDS: '100' });
    for (const plan of [computeHashPlan('big', 101, {}), { ...computeHashPlan('big', 101), constraints: { max_shards: 500 } }, { ...computeHashPlan('big', 101), constraints: undefined }]) {
      const err = await small.engine.submit(JSON.parse(JSON.stringify(plan)), { baseDir: BLUEPRINTS }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PlanError);
      expect((err as PlanError).field).toBe('HXO_MAX_SHARDS');
      expect((err as PlanError).rule).toMatch(/101 shards, over the limit of 100/);
    }
    await small.kernel.bus.flushed();
    assertNothingWritten(small);
    // At the limit it runs.
    expect((await run(small, computeHashPlan('at-limit', 100))).state).toBe('certified');
  });

  it('malformed YAML names the file', () => {
    let err: unknown;
    try {
      parsePlanText('a: [1', 'yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlanError);
    expect((err as PlanError).field).toBe('file');
    expect((err as PlanError).rule).toMatch(/^not valid YAML: /);
    expect(() => parsePlanText('{"a": ', 'json')).toThrow(PlanError);
    expect(() => readPlanFile(join(BLUEPRINTS, 'no-such-plan.yaml'))).toThrow(/^file: cannot read .*ENOENT/);
    assertNothingWritten(n);
  });
});

describe('abort', () => {
  it('a slow plan aborted once its first shards are done ends aborted, uncertified, with shards left undone', async () => {
    const n = await node();
    const submitted = await n.engine.submit(flakyPlan('slow', 'slow', 2000, {}, { ms: 20 }), { baseDir: BLUEPRINTS });
    await waitFor(() => n.engine.status(submitted.planId).done_shards > 0, 60_000, 'the first done shards');
    expect(n.engine.status(submitted.planId).state).toBe('running');
    expect(n.engine.abort(submitted.planId)).toBe(true);
    const report = await submitted.finished;
    expect(report.state).toBe('aborted');
    expect(report.truth_certified).toBe(false);
    expect(report.merkle_root).toBeNull();
    expect(report.certificate).toBeNull();
    expect(report.reason).toBe('aborted by local');
    expect(report.total_shards).toBe(2000);
    expect(report.done_shards).toBeLessThan(2000);
    expect(report.failed_shards).toBe(0);
    // What ran is checkpointed, exactly once each.
    expect(checkpointKeys(n, submitted.planId)).toHaveLength(report.done_shards);
    // The stored record and status say so; aborting again is a no-op.
    expect(n.kernel.store.db<string, PlanRecord>('plans').get(submitted.planId)?.state).toBe('aborted');
    expect(n.engine.status(submitted.planId)).toMatchObject({ state: 'aborted', done_shards: report.done_shards });
    expect(n.engine.abort(submitted.planId)).toBe(false);
    expect(() => n.engine.abort('no-such-plan')).toThrow(PlanNotFoundError);
    await n.kernel.bus.flushed();
    const audits = n.kernel.bus.queryHistory({ topic: 'hxo.audit' }).map((e) => (e.data as { operation: string }).operation);
    expect(audits).toEqual(['plan.submit', 'plan.abort']);
  });
});
