/**
 * Retention over a real store: plans beyond the policy lose their
 * checkpoints, memo runs and the artifacts only they refer to, keep their
 * reports (which still verify), and the store file stops growing; running
 * plans and the plans they reuse outputs from are never touched.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PlanCollectedError, PlanInUseError, PlanNotEndedError } from '../../src/hxo/engine-errors.ts';
import { verifyReport } from '../../src/hxo/certify/verify-report.ts';
import { casRefsDb } from '../../src/store/cas.ts';
import { BLOCK_SHARDS } from '../../src/hxo/checkpoints/checkpoint-records.ts';
import { tempDir } from '../kernel/helpers.ts';
import { checkpointKeys, computeHashPlan, BLUEPRINTS, specComputeHashRoot, startNode, type TestNode } from './helpers.ts';

const nodes: TestNode[] = [];
const dirs: { cleanup: () => void }[] = [];
afterAll(async () => {
  for (const n of nodes.splice(0)) await n.close();
  for (const d of dirs.splice(0)) d.cleanup();
});

async function node(env: Record<string, string> = {}): Promise<TestNode> {
  const n = await startNode(env);
  nodes.push(n);
  return n;
}

const storeBytes = (n: TestNode): number => statSync(join(n.dir, 'store', 'data.mdb')).size;

describe('retention', () => {
  it('20 plans with retention 3: the store stays under 6 plans of checkpoints, collected reports still verify, kept plans are whole', async () => {
    // The event log has its own cap (store/event-retention.ts): kept small here, trimmed after each plan.
    const n = await node({ XYN_EVENTS_MAX_BYTES: String(1024 * 1024) });
    const SHARDS = 20_000;
    const ids: string[] = [];
    let onePlan = 0;
    for (let p = 0; p < 20; p++) {
      const before = storeBytes(n);
      // Another per_shard each time: no outputs to reuse, every plan writes its own.
      const { planId, finished } = await n.engine.submit(computeHashPlan(`keep-3-${p}`, SHARDS, { config: { total: SHARDS * (p + 1), per_shard: p + 1, rounds: 1 } }), { baseDir: BLUEPRINTS });
      expect((await finished).state).toBe('certified');
      ids.push(planId);
      if (p === 0) onePlan = storeBytes(n) - before;
      await n.kernel.retention.trim();
      const gc = await n.engine.retention.gc({ policy: { plans: 3, days: 0 } });
      expect(gc.plans.map((c) => c.plan_id)).toEqual(p >= 3 ? [ids[p - 3]] : []);
      if (p >= 3) expect(gc.plans[0]).toMatchObject({ reason: 'beyond the last 3 plans', shards: SHARDS, checkpoint_blocks: Math.ceil(SHARDS / BLOCK_SHARDS) });
    }
    expect(onePlan).toBeGreaterThan(SHARDS * 100);
    expect(storeBytes(n)).toBeLessThan(6 * onePlan + 8 * 1024 * 1024);

    // Collected: no checkpoints, the report and certificate stay and verify; questions about shards say why they cannot be answered.
    const old = ids[0] as string;
    expect(checkpointKeys(n, old)).toEqual([]);
    const report = n.engine.report(old);
    expect(report.state).toBe('certified');
    expect(verifyReport(JSON.parse(JSON.stringify(report))).ok).toBe(true);
    await expect(n.engine.shards(old, { cursor: 0, limit: 10 })).rejects.toThrow(PlanCollectedError);
    await expect(n.engine.replay(old)).rejects.toThrow(PlanCollectedError);
    await expect(n.engine.retention.collect(old)).rejects.toThrow(PlanCollectedError);
    // Kept: whole, nothing to replay.
    for (const kept of ids.slice(-3)) {
      expect(checkpointKeys(n, kept)).toHaveLength(SHARDS);
      expect((await n.engine.replay(kept)).replaying).toEqual([]);
    }
  }, 300_000);

  it('a dry run says what it would free and frees nothing; by age, only plans older than the limit go', async () => {
    const n = await node();
    const a = await n.engine.submit(computeHashPlan('dry-a', 1000), { baseDir: BLUEPRINTS });
    await a.finished;
    const b = await n.engine.submit(computeHashPlan('dry-b', 2000, { config: { total: 2000, per_shard: 1, rounds: 2 } }), { baseDir: BLUEPRINTS });
    await b.finished;
    const dry = await n.engine.retention.gc({ dryRun: true, policy: { plans: 1, days: 0 } });
    expect(dry).toMatchObject({ dry_run: true, plans: [{ plan_id: a.planId, shards: 1000, checkpoint_blocks: Math.ceil(1000 / BLOCK_SHARDS) }] });
    expect(dry.checkpoint_bytes).toBeGreaterThan(1000 * 100);
    expect(checkpointKeys(n, a.planId)).toHaveLength(1000);
    expect((await n.engine.retention.gc({ policy: { plans: 0, days: 1 } })).plans).toEqual([]);
    expect((await n.engine.retention.gc({ policy: { plans: 0, days: 0 } })).plans).toEqual([]);
  });

  it('never touches a running plan, nor the plan it reuses outputs from; collect() refuses both', async () => {
    const n = await node();
    const source = await n.engine.submit(computeHashPlan('source', 3000), { baseDir: BLUEPRINTS });
    await source.finished;
    // Reuses the source's 3000 outputs, then runs 197,000 more shards: running while retention looks.
    const reuser = await n.engine.submit(computeHashPlan('reuser', 200_000), { baseDir: BLUEPRINTS });
    const strict = await n.engine.retention.gc({ policy: { plans: 1, days: 0 } });
    expect(strict.plans).toEqual([]);
    await expect(n.engine.retention.collect(source.planId)).rejects.toThrow(PlanInUseError);
    await expect(n.engine.retention.collect(reuser.planId)).rejects.toThrow(PlanNotEndedError);
    const reused = await reuser.finished;
    expect(reused).toMatchObject({ state: 'certified', reused_shards: 3000, merkle_root: specComputeHashRoot(200_000) });
    // Once it has ended, the source is beyond the last plan.
    expect((await n.engine.retention.gc({ policy: { plans: 1, days: 0 } })).plans.map((p) => p.plan_id)).toEqual([source.planId]);
  }, 120_000);

  it('an artifact goes with the last plan that refers to it (memo hits refer to it too)', async () => {
    const n = await node();
    const d = tempDir();
    dirs.push(d);
    mkdirSync(join(d.path, 'docs'));
    writeFileSync(join(d.path, 'docs', 'a.md'), '# A\nalpha words here\n');
    writeFileSync(join(d.path, 'docs', 'b.md'), '# B\nbeta words here\n');
    writeFileSync(join(d.path, 'docs', 'routes.json'), JSON.stringify({ '/a': 'a.md', '/b': 'b.md' }));
    const docsPlan = (name: string) => ({ name, stages: [{ id: 'docs', kind: 'docs.index', partitioner: 'by_route_map', executor: 'docs_index', config: { root: 'docs', route_map: 'routes.json' } }] });
    const first = await n.engine.submit(docsPlan('docs-1'), { baseDir: d.path });
    const firstReport = await first.finished;
    const second = await n.engine.submit(docsPlan('docs-2'), { baseDir: d.path });
    expect(await second.finished).toMatchObject({ state: 'certified', reused_shards: 2 });
    const refs = casRefsDb(n.kernel.store);
    const held = (planId: string) => [...refs.getKeys({ start: `o:plan:${planId}:`, end: `o:plan:${planId};` })].map((k) => k.split(':').pop() as string);
    const artifacts = held(first.planId);
    expect(artifacts).toHaveLength(2);
    expect(held(second.planId).sort()).toEqual([...artifacts].sort());

    const one = await n.engine.retention.collect(first.planId);
    expect(one).toMatchObject({ reason: 'asked for', shards: 2, artifacts: 0 });
    expect(artifacts.map((h) => n.kernel.cas.has(h))).toEqual([true, true]);
    const two = await n.engine.retention.collect(second.planId);
    expect(two.artifacts).toBe(2);
    expect(artifacts.map((h) => n.kernel.cas.has(h))).toEqual([false, false]);
    expect(n.engine.report(first.planId)).toEqual(firstReport);
  }, 60_000);
});
