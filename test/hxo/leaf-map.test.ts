/**
 * The engine's leaf maps (leaves/): a live plan's, kept by its run from
 * the first time it is asked for, ends with every shard done (or reused,
 * when a second plan of the same stage reuses the first one's outputs); an
 * ended plan's, built from its checkpoint summaries, says which shards
 * failed; and a client that applied its frames holds the same map.
 */
import { describe, expect, it } from 'vitest';
import { applyFrame, decodeFrame } from '../../src/hxo/leaves/leaf-frame.ts';
import { computeHashPlan, flakyPlan, nodesOfFile, REPO_ROOT } from './helpers.ts';

const startNode = nodesOfFile();

describe('leaf maps', () => {
  it('follows a live plan to its end, as deltas, and shows a later plan reusing its outputs', async () => {
    const n = await startNode();
    const first = await n.engine.submit(computeHashPlan('leaf-map-a', 30_000), { baseDir: REPO_ROOT });
    const live = await n.engine.leafStates(first.planId);
    const client = new Uint8Array(live.slots);
    const whole = decodeFrame(live.frame());
    applyFrame(client, whole);
    expect(whole.ended).toBe(false);
    expect((await first.finished).state).toBe('certified');
    const after = await n.engine.leafStates(first.planId);
    expect(after).toBe(live);
    // Every shard changed since that first frame: more than half the map, so the whole map again.
    const last = decodeFrame(after.frame(whole.version));
    expect([last.delta, last.ended]).toEqual([false, true]);
    applyFrame(client, last);
    expect(decodeFrame(after.frame(last.version))).toMatchObject({ delta: true, ended: true, runs: [] });
    expect(client.every((b) => b === 2)).toBe(true);
    expect(after.counts()).toMatchObject({ done: 30_000, pending: 0, running: 0, reused: 0 });

    const second = await n.engine.submit(computeHashPlan('leaf-map-b', 30_000), { baseDir: REPO_ROOT });
    const watched = await n.engine.leafStates(second.planId);
    await second.finished;
    expect(watched.counts()).toMatchObject({ done: 30_000, reused: 30_000 });
  });

  it("builds an ended plan's map from its checkpoint summaries", async () => {
    const n = await startNode();
    const plan = await n.engine.submit(flakyPlan('leaf-map-failing', 'throws', 40, { retries: 0 }), { baseDir: REPO_ROOT });
    expect((await plan.finished).state).toBe('failed');
    const states = await n.engine.leafStates(plan.planId);
    expect(states.ended).toBe(true);
    expect(states.counts()).toMatchObject({ failed: 40, done: 0, pending: 0 });
    await expect(n.engine.slotPlace(plan.planId, 39)).resolves.toMatchObject({ stage_id: 'flaky', shard_index: 39, leaf_index: 39, leaves: 1, slots: 40 });
    await expect(n.engine.slotPlace(plan.planId, 40)).resolves.toBeUndefined();
  });
});
