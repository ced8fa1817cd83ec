/**
 * Checkpoint summaries (checkpoint-summary.ts) follow the checkpoints:
 *
 * - every write and removal of checkpoints updates its block's summary in
 *   the same transaction: ended, failed and reused bits as the checkpoints
 *   say; a logged mark stays until its shard's checkpoint is removed;
 * - a plan checkpointed before summaries were kept (none, no marker) is
 *   read from its checkpoints when it resumes, gets its summaries then, and
 *   ends with the root of an uninterrupted run and one done event per shard;
 * - retention collects them with the checkpoints;
 * - final failed events a stop took are given back, once each.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/env.ts';
import { BlockKeys, blockKey, checkpointDb, decodeCheckpoint, encodeFailed, planKeyRange, readCheckpoint, summariesOf, writeCheckpoints } from '../../src/hxo/checkpoints/checkpoint-records.ts';
import { PLANS_DB, type PlanRecord } from '../../src/hxo/checkpoints/plan-records.ts';
import { Bits, clearBits, hasBit, hasSummaries, markSummaries, shardKey } from '../../src/hxo/checkpoints/checkpoint-summary.ts';
import { countCheckpoints } from '../../src/hxo/checkpoints/plan-checkpoints.ts';
import { onFinalEventsLogged } from '../../src/hxo/run/final-events.ts';
import { tempDir, waitFor } from '../kernel/helpers.ts';
import { BLUEPRINTS, flakyPlan, planEvents, specCasId, specLeaf, startNode, type TestNode } from './helpers.ts';
import { merkleRoot } from '../../src/hxo/certify/merkle.ts';

const nodes: TestNode[] = [];
afterAll(async () => {
  for (const n of nodes.splice(0)) await n.close();
});

/** A done checkpoint as far as summaries read one: phase 1 at byte 0, flags (1 = reused) at byte 1. */
const done = (reused = false): Buffer => Buffer.from([1, reused ? 1 : 0, ...new Array<number>(86).fill(0)]);

describe('checkpoint summaries', () => {
  it('follow every write and removal of checkpoints; logged marks go only with their checkpoint', async () => {
    const dir = tempDir();
    const store = openStore({ path: dir.path });
    try {
      const db = checkpointDb(store);
      const summaries = summariesOf(db);
      const keys = new BlockKeys('plan-a', 0);
      await store.write(() => {
        writeCheckpoints(db, keys, [0, 1, 2, 40, 70], [done(), encodeFailed('00ff00ff00ff00ff', 3, 5, { message: 'boom', name: 'Error', code: 'ERROR' }), done(true), done(), done()]);
        markSummaries(summaries, 'plan-a');
      });
      const first = summaries.getBinary(blockKey('plan-a', 0, 0)) as Uint8Array;
      expect([0, 1, 2, 40].every((k) => hasBit(first, Bits.Ended, k))).toBe(true);
      expect([3, 39, 63].some((k) => hasBit(first, Bits.Ended, k))).toBe(false);
      expect([hasBit(first, Bits.Failed, 1), hasBit(first, Bits.Failed, 0), hasBit(first, Bits.Reused, 2), hasBit(first, Bits.Reused, 0)]).toEqual([true, false, true, false]);
      expect(countCheckpoints(db, 'plan-a')).toEqual({ done: 4, failed: 1, reused: 1 });

      // Final events of shards 0, 1, 40 and 70 logged (inside the append's transaction, as the event batcher does).
      const logged = onFinalEventsLogged(db, 'plan-a');
      await store.write(() => logged('hxo.shard.done', [0, 1, 40, 70].map((i) => shardKey(0, i))));
      // Shard 0 pending again (a replay), shard 2 rewritten, shard 71 written: only shard 0's mark goes.
      await store.write(() => writeCheckpoints(db, keys, [0, 2, 71], [undefined, done(), done()]));
      const after = summaries.getBinary(blockKey('plan-a', 0, 0)) as Uint8Array;
      expect([0, 1, 40].map((k) => hasBit(after, Bits.Logged, k))).toEqual([false, true, true]);
      expect([hasBit(after, Bits.Ended, 0), hasBit(after, Bits.Reused, 2)]).toEqual([false, false]);
      const second = summaries.getBinary(blockKey('plan-a', 0, 64)) as Uint8Array;
      expect([hasBit(second, Bits.Logged, 6), hasBit(second, Bits.Logged, 7), hasBit(second, Bits.Ended, 7)]).toEqual([true, false, true]);
      expect(countCheckpoints(db, 'plan-a')).toEqual({ done: 4, failed: 1, reused: 0 });

      // A block emptied loses its summary once no mark is left in it either.
      await store.write(() => writeCheckpoints(db, keys, [70, 71], [undefined, undefined]));
      expect(summaries.getBinary(blockKey('plan-a', 0, 64))).toBeUndefined();
    } finally {
      await store.close();
      dir.cleanup();
    }
  });

  it('of a plan checkpointed without them are made from its checkpoints when it resumes, which ends as an uninterrupted run', async () => {
    const n = await startNode();
    nodes.push(n);
    const count = 600;
    const submitted = await n.engine.submit(flakyPlan('summaries-afresh', 'slow', count, {}, { ms: 2 }), { baseDir: BLUEPRINTS });
    const planId = submitted.planId;
    await waitFor(() => n.engine.status(planId).done_shards >= 100, 30_000, 'shards done');
    n.engine.abort(planId);
    const aborted = await submitted.finished;
    expect(aborted.state).toBe('aborted');
    expect(aborted.done_shards).toBeLessThan(count);

    // As a version that kept no summaries would have left it.
    const summaries = summariesOf(checkpointDb(n.kernel.store));
    await n.kernel.store.write(() => {
      for (const key of summaries.getKeys(planKeyRange(planId))) void summaries.remove(key);
    });
    expect(hasSummaries(summaries, planId)).toBe(false);

    const report = await (await n.engine.resume(planId)).finished;
    const leaves = new Uint8Array(count * 32);
    for (let i = 0; i < count; i++) leaves.set(specLeaf(specCasId('test.flaky', 'slow', { i }), { i }).leaf, i * 32);
    expect(report).toMatchObject({ state: 'certified', done_shards: count, merkle_root: merkleRoot(leaves).toString('hex') });
    expect(hasSummaries(summaries, planId)).toBe(true);
    expect(countCheckpoints(checkpointDb(n.kernel.store), planId)).toEqual({ done: count, failed: 0, reused: 0 });
    // The shards done before were taken as logged: none has a second done event.
    const ids = planEvents(n.kernel, 'hxo.shard.done', planId).flatMap((e) => (e.data.items as { cas_id: string }[]).map((it) => it.cas_id));
    expect(ids).toHaveLength(count);
    expect(new Set(ids).size).toBe(count);

    // Collected with its checkpoints, marker and all.
    await n.engine.retention.collect(planId);
    expect([...summaries.getKeys(planKeyRange(planId))]).toEqual([]);
    expect([...checkpointDb(n.kernel.store).getKeys(planKeyRange(planId))]).toEqual([]);
  }, 60_000);

  it('give back the final failed events a stop took, once each', async () => {
    const n = await startNode();
    nodes.push(n);
    const count = 40;
    const plan = flakyPlan('summaries-failed', 'throws', count, { retries: 0 });
    const first = await n.engine.submit(plan, { baseDir: BLUEPRINTS });
    expect((await first.finished).failed_shards).toBe(count);
    const planId = first.planId;
    const finalFailures = () =>
      planEvents(n.kernel, 'hxo.shard.failed', planId).flatMap((e) => (e.data.items as { cas_id: string; final: boolean }[]).filter((it) => it.final).map((it) => it.cas_id));
    expect(finalFailures()).toHaveLength(count);

    // As a kill would have left it: no report yet, and the events of shards 5..14 never logged.
    const plans = n.kernel.store.db<string, PlanRecord>(PLANS_DB);
    const summaries = summariesOf(checkpointDb(n.kernel.store));
    const key = blockKey(planId, 0, 0);
    const lost = Array.from({ length: 10 }, (_, k) => 5 + k);
    const logged = casIdsOf(n, planId, lost);
    await n.kernel.store.write(() => {
      const { report: _report, ...record } = plans.get(planId) as PlanRecord;
      void plans.put(planId, { ...record, state: 'running' });
      const value = Buffer.from(summaries.getBinary(key) as Uint8Array);
      clearBits(value, Bits.Logged, [lost.reduce((m, k) => m | (1 << k), 0), 0]);
      void summaries.put(key, value);
    });
    expect(lost.some((k) => hasBit(summaries.getBinary(key) as Uint8Array, Bits.Logged, k))).toBe(false);

    // Going on, the plan runs nothing (every shard ended) and emits just those ten again.
    const again = await n.engine.submit(plan, { baseDir: BLUEPRINTS });
    expect((await again.finished).failed_shards).toBe(count);
    const ids = finalFailures();
    expect(ids).toHaveLength(count + 10);
    expect(ids.slice(count).sort()).toEqual(logged.sort());
    expect(Array.from({ length: count }, (_, k) => hasBit(summaries.getBinary(key) as Uint8Array, Bits.Logged, k)).every(Boolean)).toBe(true);
  }, 60_000);
});

/** The cas_ids of these shards of a one-stage plan, from their checkpoints. */
function casIdsOf(n: TestNode, planId: string, shards: number[]): string[] {
  const db = checkpointDb(n.kernel.store);
  return shards.map((i) => decodeCheckpoint(readCheckpoint(db, planId, 0, i) as Uint8Array).c);
}
