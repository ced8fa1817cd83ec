/**
 * Checkpoint keys: raw bytes that must sort as (plan, stage, shard), keep
 * plans apart even when one id is a prefix of another, and read back.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/env.ts';
import { CheckpointKeys, checkpointDb, checkpointKey, parseCheckpointKey, planKeyRange, stageKeyRange } from '../../src/hxo/checkpoint-records.ts';
import { tempDir } from '../kernel/helpers.ts';

const dir = tempDir();
afterAll(() => dir.cleanup());

describe('checkpoint keys', () => {
  it('read back what was written', () => {
    for (const [planId, stage, shard] of [['p', 0, 0], ['ab-é', 65535, 0xffffffff], ['0b1c2d3e-0000-8000-8000-000000000000', 3, 123456]] as const) {
      expect(parseCheckpointKey(checkpointKey(planId, stage, shard))).toEqual({ planId, stage, shard });
    }
  });

  it('sort by plan, stage, shard in LMDB, and ranges select exactly one plan or stage', async () => {
    const store = openStore({ path: dir.path });
    const db = checkpointDb(store);
    const entries: [string, number, number][] = [];
    for (const planId of ['ab', 'abc', 'b']) for (const stage of [0, 1, 256]) for (const shard of [0, 1, 255, 256, 70_000, 0xffffffff]) entries.push([planId, stage, shard]);
    // Written in a scrambled order, with the reusable key writer.
    await store.write(() => {
      for (const [k, [planId, stage, shard]] of [...entries].reverse().entries()) void db.put(new CheckpointKeys(planId, stage).at(shard), Buffer.from([k & 0xff]));
    });
    const all = [...db.getKeys({})].map(parseCheckpointKey).map(({ planId, stage, shard }) => [planId, stage, shard]);
    expect(all).toEqual(entries);
    const ab = [...db.getKeys(planKeyRange('ab'))].map(parseCheckpointKey);
    expect(ab).toHaveLength(18);
    expect(ab.every((k) => k.planId === 'ab')).toBe(true);
    const stage1 = [...db.getKeys(stageKeyRange('abc', 1))].map(parseCheckpointKey);
    expect(stage1.map((k) => k.shard)).toEqual([0, 1, 255, 256, 70_000, 0xffffffff]);
    expect(stage1.every((k) => k.planId === 'abc' && k.stage === 1)).toBe(true);
    await store.close();
  });

  it('refuses a plan id with NUL in it (it would run into the next plan)', () => {
    expect(() => checkpointKey('a\u0000b', 0, 0)).toThrow(/NUL/);
  });
});
