/**
 * Checkpoint keys: raw bytes that must sort as (plan, stage, shard), keep
 * plans apart even when one id is a prefix of another, and read back. Done
 * checkpoints: the native one-call path writes what the spec says, byte for
 * byte the same as the JS path.
 */
import { execFileSync } from 'node:child_process';
import { hash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/env.ts';
import { CheckpointKeys, Phase, checkpointDb, checkpointKey, decodeCheckpoint, doneOutput, encodeDoneShard, parseCheckpointKey, planKeyRange, stageKeyRange } from '../../src/hxo/checkpoint-records.ts';
import { nativeHashing, shardDone } from '../../src/kernel/sha256.ts';
import { tempDir } from '../kernel/helpers.ts';
import { REPO_ROOT } from './helpers.ts';

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

describe('done checkpoints (encodeDoneShard)', () => {
  const sha = (...parts: Uint8Array[]) => hash('sha256', Buffer.concat(parts), 'buffer');

  it('hold the spec digest and leaf, also written at slot j of the batch arrays, and nothing else moves', () => {
    expect(nativeHashing).toBe(true);
    for (const len of [0, 1, 74, 1000]) {
      const n = 5;
      const cas = randomBytes(n * 8);
      const digests = new Uint8Array(n * 32);
      const leaves = new Uint8Array(n * 32);
      const j = len % n;
      const output = randomBytes(len);
      const cp = decodeCheckpoint(encodeDoneShard(output, cas, j, 3, 42, len === 1, digests, leaves));
      const casId = cas.subarray(j * 8, j * 8 + 8).toString('hex');
      const digest = sha(output);
      const leaf = sha(Buffer.from([0]), Buffer.from(casId, 'ascii'), digest);
      expect(cp).toMatchObject({ p: Phase.Done, c: casId, a: 3, ms: 42, r: len === 1 });
      expect(Buffer.from(cp.d as Uint8Array)).toEqual(digest);
      expect(Buffer.from(cp.l as Uint8Array)).toEqual(leaf);
      expect(Buffer.from(cp.o as Uint8Array)).toEqual(output);
      expect(Buffer.from(digests.subarray(j * 32, j * 32 + 32))).toEqual(digest);
      expect(Buffer.from(leaves.subarray(j * 32, j * 32 + 32))).toEqual(leaf);
      expect(digests.every((b, k) => (k >= j * 32 && k < j * 32 + 32) || b === 0)).toBe(true);
    }
  });

  it('is byte for byte the same without the addon', () => {
    const script = `
      import('./src/hxo/checkpoint-records.ts').then(async (m) => {
        const { nativeHashing } = await import('./src/kernel/sha256.ts');
        const d = new Uint8Array(96), l = new Uint8Array(96);
        const cp = m.encodeDoneShard(Buffer.from('an output'), Buffer.from('00112233445566778899aabbccddeeff0011223344556677', 'hex'), 2, 7, 9, true, d, l);
        console.log(nativeHashing, Buffer.concat([cp, d, l]).toString('hex'));
      })`;
    const run = (env: Record<string, string>) => execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO_ROOT, env: { ...process.env, ...env }, encoding: 'utf8' }).trim().split(' ');
    const [nativeOn, withAddon] = run({});
    const [nativeOff, withoutAddon] = run({ XYN_NATIVE_HASHING: '0' });
    expect([nativeOn, nativeOff]).toEqual(['true', 'false']);
    expect(withoutAddon).toBe(withAddon);
  });

  it('the native call refuses buffers of the wrong size instead of writing out of bounds', () => {
    const ok = () => [Buffer.from('x'), new Uint8Array(16), new Uint8Array(89), new Uint8Array(64), new Uint8Array(64)] as const;
    expect(() => shardDone?.(...ok(), 1)).not.toThrow();
    expect(() => shardDone?.(...ok(), 2)).toThrow(RangeError);
    const [o, c, , d, l] = ok();
    expect(() => shardDone?.(o, c, new Uint8Array(88), d, l, 0)).toThrow(RangeError);
  });
});

describe('memo hits (doneOutput)', () => {
  it('take the output of a done checkpoint of the same shard, and nothing corrupted or foreign', () => {
    const cas = randomBytes(8);
    const casId = cas.toString('hex');
    const output = Buffer.from('an output');
    const cp = encodeDoneShard(output, cas, 0, 1, 0, false, new Uint8Array(32), new Uint8Array(32));
    expect(Buffer.from(doneOutput(cp, casId) as Uint8Array)).toEqual(output);
    expect(doneOutput(cp, 'ffffffffffffffff')).toBeUndefined();
    expect(doneOutput(undefined, casId)).toBeUndefined();
    const corrupted = Buffer.from(cp);
    corrupted[corrupted.length - 1] = (corrupted[corrupted.length - 1] as number) ^ 1;
    expect(doneOutput(corrupted, casId)).toBeUndefined();
  });
});
