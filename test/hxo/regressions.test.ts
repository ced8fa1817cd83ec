/**
 * Regressions: bugs found in src/hxo while writing the engine suites (fixed in
 * ff7f06b). Each test states the behaviour the engine documents, or that
 * correctness requires, and failed before the fix.
 *
 * A crash is simulated in-process: a finished plan's stored record loses its
 * report (and, where said, some checkpoints), exactly the state a node killed
 * mid-run or mid-certification leaves behind; a new kernel then resumes it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { PlanRecord } from '../../src/hxo/engine.ts';
import type { PlanReport } from '../../src/hxo/report.ts';
import { NodeStoppingError, PlanError } from '../../src/hxo/engine-errors.ts';
import { openStore } from '../../src/store/env.ts';
import { join } from 'node:path';
import { BlockKeys, checkpointDb, writeCheckpoints } from '../../src/hxo/checkpoints/checkpoint-records.ts';
import { tempDir, waitFor } from '../kernel/helpers.ts';
import { BLUEPRINTS, checkpointKeys, computeHashPlan, flakyPlan, planEvents, specCasId, specComputeHashRoot, startNode, type TestNode } from './helpers.ts';

const nodes: TestNode[] = [];
const dirs: ReturnType<typeof tempDir>[] = [];
async function node(env: Record<string, string> = {}, dir?: string): Promise<TestNode> {
  const n = await startNode(env, dir);
  nodes.push(n);
  return n;
}
afterAll(async () => {
  for (const n of nodes.splice(0)) await n.close();
  for (const d of dirs.splice(0)) d.cleanup();
});

async function run(n: TestNode, plan: unknown): Promise<PlanReport> {
  return (await n.engine.submit(plan, { baseDir: BLUEPRINTS })).finished;
}

/**
 * Runs `plan` to the end in a fresh data dir, then leaves the dir as a crash
 * would have: the plan record without its report, and only the checkpoints of
 * shards below `keepShards`. Returns the dir and the plan id.
 */
async function crashedPlan(plan: unknown, keepShards: number): Promise<{ dir: string; planId: string }> {
  const d = tempDir();
  dirs.push(d);
  const n = await startNode({}, d.path);
  const submitted = await n.engine.submit(plan, { baseDir: BLUEPRINTS });
  expect((await submitted.finished).state).toBe('certified');
  const plans = n.kernel.store.db<string, PlanRecord>('plans');
  const checkpoints = checkpointDb(n.kernel.store);
  const keys = checkpointKeys(n, submitted.planId);
  await n.kernel.store.write(() => {
    const { report: _report, ...record } = plans.get(submitted.planId) as PlanRecord;
    void plans.put(submitted.planId, { ...record, state: 'running' });
    const gone = keys.filter((k) => k.stage === 0 && k.shard >= keepShards).map((k) => k.shard);
    writeCheckpoints(checkpoints, new BlockKeys(submitted.planId, 0), gone, new Array<undefined>(gone.length));
  });
  await n.close();
  return { dir: d.path, planId: submitted.planId };
}

/** The plan's outcome, or 'still running' after `ms`. */
function within(ms: number, finished: Promise<PlanReport>): Promise<PlanReport | 'still running'> {
  return Promise.race([finished, new Promise<'still running'>((r) => setTimeout(() => r('still running'), ms).unref())]);
}

describe('a plan with nothing left to dispatch finishes even while the scheduler window is full', () => {
  it('a resumed plan whose shards are all checkpointed (crash during certification) certifies while another plan runs', async () => {
    const plan = computeHashPlan('crashed-in-certify', 500);
    const { dir, planId } = await crashedPlan(plan, 500);
    const n = await node({}, dir);
    // A slow plan fills the scheduler window (pool 2 → 6 batches in flight).
    const slow = await n.engine.submit(flakyPlan('window-filler', 'slow', 1000, {}, { ms: 5 }), { baseDir: BLUEPRINTS });
    const resumed = await n.engine.submit(plan, { baseDir: BLUEPRINTS });
    expect(resumed.planId).toBe(planId);
    expect((await slow.finished).state).toBe('certified');
    // Nothing is left to run: it should certify at once, at the latest once the other plan is done.
    const outcome = await within(5_000, resumed.finished);
    expect(outcome === 'still running' ? outcome : outcome.state).toBe('certified');
  }, 30_000);

  it('a zero-shard plan submitted while another plan fills the window certifies', async () => {
    const n = await node();
    const slow = await n.engine.submit(flakyPlan('window-filler', 'slow', 1000, {}, { ms: 5 }), { baseDir: BLUEPRINTS });
    const empty = await n.engine.submit(computeHashPlan('empty', 0), { baseDir: BLUEPRINTS });
    expect((await slow.finished).state).toBe('certified');
    const outcome = await within(5_000, empty.finished);
    expect(outcome === 'still running' ? outcome : outcome.state).toBe('certified');
  }, 30_000);
});

describe('per-stage counts of a resumed plan include the shards done before the crash', () => {
  it('stages[i].done_shards equals done_shards after a resume', async () => {
    const plan = computeHashPlan('crashed-half-way', 2000, { memo: false });
    const { dir } = await crashedPlan(plan, 1000);
    const n = await node({}, dir);
    const report = await run(n, plan);
    expect(report.state).toBe('certified');
    expect(report.done_shards).toBe(2000);
    expect(report.merkle_root).toBe(specComputeHashRoot(2000));
    expect(report.stages[0]?.done_shards).toBe(report.done_shards);
    expect(n.engine.status(report.plan_id).done_shards).toBe(2000);
  }, 30_000);
});

describe('the memo key includes the executor config: a plan with other rounds does not reuse outputs', () => {
  it('compute.hash with rounds 2 after rounds 1 over the same inputs gets the rounds-2 root', async () => {
    const n = await node();
    const one = await run(n, { ...computeHashPlan('rounds', 50), stages: [{ id: 'hash', kind: 'compute.hash', config: { total: 50, rounds: 1 } }] });
    expect(one.merkle_root).toBe(specComputeHashRoot(50, 1));
    const two = await run(n, { ...computeHashPlan('rounds', 50), stages: [{ id: 'hash', kind: 'compute.hash', config: { total: 50, rounds: 2 } }] });
    expect(two.state).toBe('certified');
    expect(two.reused_shards).toBe(0);
    expect(two.merkle_root).toBe(specComputeHashRoot(50, 2));
  });
});

describe('an unknown field is named as the field itself (not "plan" or the enclosing object)', () => {
  it.each([
    [{ ...computeHashPlan('x', 1), priority: 'high' }, 'priority'],
    [{ name: 'x', stages: [{ id: 'a', kind: 'compute.hash', config: { total: 1 }, retry: 3 }] }, 'stages[0].retry'],
  ])('%#', async (plan, field) => {
    const n = nodes[0] ?? (await node());
    const err = await n.engine.submit(plan, { baseDir: BLUEPRINTS }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PlanError);
    expect((err as PlanError).field).toBe(field);
  });
});

describe('a shard whose thread was killed keeps its cas_id and its created/claimed events', () => {
  it('the failed shard carries its cas_id and its events go created → claimed → failed', async () => {
    const n = await node();
    const submitted = await n.engine.submit(flakyPlan('hang-ids', 'hangs_sync', 1, { timeout_ms: 300, retries: 0 }), { baseDir: BLUEPRINTS });
    const report = await submitted.finished;
    expect(report.state).toBe('failed');
    const casId = specCasId('test.flaky', 'hangs_sync', { i: 0 });
    expect(report.failed.map((f) => f.cas_id)).toEqual([casId]);
    await n.kernel.bus.flushed();
    const names = planEvents(n.kernel, 'hxo.shard.*', submitted.planId).map((e) => e.event_name);
    expect(names).toEqual(['hxo.shard.created', 'hxo.shard.claimed', 'hxo.shard.failed']);
  }, 30_000);
});

describe('a node stopped while a plan runs', () => {
  it('stops promptly (the plan halts; its running batches drain), leaves the plan unfinished, and the next node resumes it to the spec root', async () => {
    const d = tempDir();
    dirs.push(d);
    const first = await startNode({}, d.path);
    const plan = computeHashPlan('stopped-mid-plan', 300_000);
    const submitted = await first.engine.submit(plan, { baseDir: BLUEPRINTS });
    const outcome = submitted.finished.then(
      () => 'finished',
      (err: unknown) => (err instanceof NodeStoppingError ? 'stopped' : String(err)),
    );
    // Once some shards are done: stopping then used to leave the plan dispatching to a closed pool, forever.
    await waitFor(() => first.engine.status(submitted.planId).done_shards > 0, 30_000, 'shards done');
    await first.close();
    expect(await outcome).toBe('stopped');
    expect((await storedPlan(d.path, submitted.planId))?.report).toBeUndefined();

    const second = await node({}, d.path);
    expect(await second.engine.start()).toEqual([submitted.planId]);
    await second.engine.idle();
    expect(second.engine.report(submitted.planId)).toMatchObject({ state: 'certified', total_shards: 300_000, merkle_root: specComputeHashRoot(300_000) });
  }, 120_000);
});

async function storedPlan(dir: string, planId: string): Promise<PlanRecord | undefined> {
  const store = openStore({ path: join(dir, 'store') });
  try {
    return store.db<string, PlanRecord>('plans').get(planId);
  } finally {
    await store.close();
  }
}
