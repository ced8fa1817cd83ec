/**
 * Certification failure (seed 000 flow 3, step 9): a stored output that no
 * longer matches its leaf fails a sampled proof (`hxo.aggregate.failed`); the
 * engine bisects the tree against leaves recomputed from storage, finds every
 * bad leaf — the sampled one and one no sample looked at — replays those
 * shards, and certifies the same root.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PlanRecord } from '../../src/hxo/engine.ts';
import type { PlanReport } from '../../src/hxo/report.ts';
import { sampleIndices } from '../../src/hxo/certify/certify.ts';
import { verifyReport } from '../../src/hxo/certify/verify-report.ts';
import { BlockKeys, checkpointDb, decodeCheckpoint, readCheckpoint, writeCheckpoints } from '../../src/hxo/checkpoints/checkpoint-records.ts';
import { tempDir } from '../kernel/helpers.ts';
import { BLUEPRINTS, computeHashPlan, flakyPlan, planEvents, specComputeHashRoot, specComputeHashShard, startNode, type TestNode } from './helpers.ts';

const TOTAL = 3000;
const dir = tempDir();
const nodes: TestNode[] = [];
afterAll(async () => {
  for (const n of nodes.splice(0)) await n.close();
  dir.cleanup();
});

/** The output bytes with one hex digit of the digest changed (still valid msgpack). */
function corrupt(output: Uint8Array): Buffer {
  const b = Buffer.from(output);
  b[b.length - 1] = b[b.length - 1] === 0x30 ? 0x31 : 0x30;
  return b;
}

describe('a stored output that no longer matches its leaf', () => {
  it('fails certification, is found by bisection with every other bad leaf, replayed, and the plan certifies the same root', async () => {
    const plan = computeHashPlan('replay', TOTAL);
    const first = await startNode({}, dir.path);
    nodes.push(first);
    const submitted = await first.engine.submit(plan, { baseDir: BLUEPRINTS });
    const clean = await submitted.finished;
    expect(clean.state).toBe('certified');
    const root = clean.merkle_root as string;
    expect(root).toBe(specComputeHashRoot(TOTAL));

    // Two outputs go bad on disk: one the next certification samples, one it does not.
    const sample = sampleIndices(root, TOTAL);
    const sampled = sample[0] as number;
    const unsampled = [...Array(TOTAL).keys()].find((i) => i > 100 && !sample.includes(i)) as number;
    const checkpoints = checkpointDb(first.kernel.store);
    const plans = first.kernel.store.db<string, PlanRecord>('plans');
    await first.kernel.store.write(() => {
      for (const i of [sampled, unsampled]) {
        const stored = readCheckpoint(checkpoints, submitted.planId, 0, i) as Uint8Array;
        const cp = decodeCheckpoint(stored);
        const bad = Buffer.concat([stored.subarray(0, stored.length - (cp.o as Uint8Array).length), corrupt(cp.o as Uint8Array)]);
        writeCheckpoints(checkpoints, new BlockKeys(submitted.planId, 0), [i], [bad]);
      }
      // The node stopped before writing the report: the next start certifies again.
      const { report: _report, ...record } = plans.get(submitted.planId) as PlanRecord;
      void plans.put(submitted.planId, { ...record, state: 'running' });
    });
    const lastSeq = first.kernel.bus.lastSeq;
    await first.close();

    const second = await startNode({}, dir.path);
    nodes.push(second);
    expect(await second.engine.start()).toEqual([submitted.planId]);
    await second.engine.idle();
    const report: PlanReport = second.engine.report(submitted.planId);

    expect(report).toMatchObject({ state: 'certified', truth_certified: true, merkle_root: root, done_shards: TOTAL, failed_shards: 0 });
    expect(report.replayed?.map((r) => r.leaf_index)).toEqual([sampled, unsampled].sort((a, b) => a - b));
    expect(report.replayed?.map((r) => r.cas_id)).toEqual([sampled, unsampled].sort((a, b) => a - b).map((i) => specComputeHashShard(i).cas_id));
    expect(verifyReport(JSON.parse(JSON.stringify(report))).errors).toEqual([]);

    // The story in events: certification failed, bisection named the bad leaves, the shards ran again, then finalized.
    const after = (topic: string) => planEvents(second.kernel, topic, submitted.planId).filter((e) => e.seq > lastSeq);
    const story = [...after('hxo.aggregate.*'), ...after('hxo.alert')].sort((a, b) => a.seq - b.seq).map((e) => e.event_name);
    expect(story).toEqual(['hxo.aggregate.ready', 'hxo.aggregate.certify', 'hxo.aggregate.failed', 'hxo.alert', 'hxo.aggregate.ready', 'hxo.aggregate.certify', 'hxo.aggregate.finalized']);
    const alert = after('hxo.alert')[0]?.data as { alert_type: string; leaves: { leaf_index: number }[] };
    expect(alert.alert_type).toBe('bad_leaves');
    expect(alert.leaves.map((l) => l.leaf_index)).toEqual([sampled, unsampled].sort((a, b) => a - b));
    const redone = after('hxo.shard.done').flatMap((e) => (e.data.items as { cas_id: string }[]).map((it) => it.cas_id));
    expect(redone.sort()).toEqual([sampled, unsampled].map((i) => specComputeHashShard(i).cas_id).sort());

    // What is stored is right again.
    for (const i of [sampled, unsampled]) {
      const cp = decodeCheckpoint(readCheckpoint(checkpointDb(second.kernel.store), submitted.planId, 0, i) as Uint8Array);
      expect(Buffer.from(cp.l as Uint8Array)).toEqual(specComputeHashShard(i).leaf);
    }
  }, 120_000);
});

describe('engine.replay', () => {
  it('--failed: gives the failed shards of an ended plan fresh attempts, and the plan certifies', async () => {
    const n = await startNode();
    nodes.push(n);
    const marker = join(n.dir, 'marker');
    writeFileSync(marker, '');
    const plan = flakyPlan('replay-failed', 'fails_while_marked', 30, { retries: 0 }, { marker });
    const submitted = await n.engine.submit(plan, { baseDir: BLUEPRINTS });
    const failed = await submitted.finished;
    expect(failed).toMatchObject({ state: 'failed', failed_shards: 10, done_shards: 20 });

    rmSync(marker);
    const again = await n.engine.replay(submitted.planId, { failed: true });
    expect(again.replaying.map((r) => r.shard_index)).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
    const report = await again.finished;
    expect(report).toMatchObject({ state: 'certified', done_shards: 30, failed_shards: 0, failed: [] });
    expect(report.replayed?.map((r) => r.shard_index)).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
    expect(n.engine.report(submitted.planId)).toEqual(report);
    // The replay is a privileged operation: audited.
    const audit = n.kernel.bus.queryHistory({ topic: 'hxo.audit', limit: 100 }).map((e) => e.data as { operation: string; details: Record<string, unknown> });
    expect(audit.find((a) => a.operation === 'plan.replay')?.details).toEqual({ plan_id: submitted.planId, selection: { failed: true }, shards: 10 });
  });

  it('--subtree and the default check: same root, nothing to replay when nothing is wrong; bad ranges are refused', async () => {
    const n = await startNode();
    nodes.push(n);
    const submitted = await n.engine.submit(computeHashPlan('replay-subtree', 500), { baseDir: BLUEPRINTS });
    const first = await submitted.finished;
    const check = await n.engine.replay(submitted.planId);
    expect(check.replaying).toEqual([]);
    expect(await check.finished).toEqual(first);

    const sub = await n.engine.replay(submitted.planId, { subtree: [100, 163] });
    expect(sub.replaying).toHaveLength(64);
    const report = await sub.finished;
    expect(report).toMatchObject({ state: 'certified', merkle_root: first.merkle_root, done_shards: 500 });
    expect(report.replayed?.[0]).toMatchObject({ leaf_index: 100, shard_index: 100, cas_id: specComputeHashShard(100).cas_id });

    await expect(n.engine.replay(submitted.planId, { subtree: [400, 500] })).rejects.toThrow(/^subtree: 400\.\.500 is not a range of leaves of this plan \(0\.\.499\)/);
    await expect(n.engine.replay(submitted.planId, { subtree: [5, 4] })).rejects.toThrow(/subtree/);
    await expect(n.engine.replay('no-such-plan')).rejects.toThrow(/no plan no-such-plan/);
  });
});
