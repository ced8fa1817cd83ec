/**
 * Checkpoints: blocks of 32 shards under raw byte keys that must sort as
 * (plan, stage, first shard), keep plans apart even when one id is a prefix
 * of another, and read back; a block merges what later batches write into
 * it. Done checkpoints: the native one-call path writes what the spec says,
 * byte for byte the same as the JS path.
 */
import { execFileSync } from 'node:child_process';
import { hash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/env.ts';
import {
  BLOCK_SHARDS,
  BlockKeys,
  Phase,
  blockKey,
  checkpointDb,
  decodeCheckpoint,
  doneOutput,
  encodeBlock,
  encodeDoneShard,
  encodeFailed,
  encodeReused,
  checkpointArtifacts,
  failureOf,
  forEachBlockRecord,
  parseBlockKey,
  planKeyRange,
  readCheckpoint,
  stageKeyRange,
  writeCheckpoints,
} from '../../src/hxo/checkpoints/checkpoint-records.ts';
import { nativeHashing } from '../../src/kernel/sha256.ts';
import { shardDone } from '../../src/hxo/certify/leaf-hash.ts';
import { tempDir } from '../kernel/helpers.ts';
import { REPO_ROOT, storedCheckpoints } from './helpers.ts';

const dir = tempDir();
afterAll(() => dir.cleanup());

describe('checkpoint block keys', () => {
  it('name the block of a shard and read back', () => {
    for (const [planId, stage, shard] of [['p', 0, 0], ['ab-é', 65535, 0xffffffff], ['0b1c2d3e-0000-8000-8000-000000000000', 3, 123456]] as const) {
      expect(parseBlockKey(blockKey(planId, stage, shard))).toEqual({ planId, stage, first: shard - (shard % BLOCK_SHARDS) });
    }
    expect(blockKey('p', 1, BLOCK_SHARDS - 1)).toEqual(blockKey('p', 1, 0));
    expect(blockKey('p', 1, BLOCK_SHARDS)).not.toEqual(blockKey('p', 1, BLOCK_SHARDS - 1));
  });

  it('sort by plan, stage, shard in LMDB, and ranges select exactly one plan or stage', async () => {
    const store = openStore({ path: dir.path });
    const db = checkpointDb(store);
    const entries: [string, number, number][] = [];
    for (const planId of ['ab', 'abc', 'b']) for (const stage of [0, 1, 256]) for (const shard of [0, 1, 255, 256, 70_000, 0xffffffff]) entries.push([planId, stage, shard]);
    // Written one shard at a time, in a scrambled order.
    await store.write(() => {
      for (const [k, [planId, stage, shard]] of [...entries].reverse().entries()) writeCheckpoints(db, new BlockKeys(planId, stage), [shard], [Buffer.from([k & 0xff])]);
    });
    expect(storedCheckpoints(db).map(({ planId, stage, shard }) => [planId, stage, shard])).toEqual(entries);
    const ab = storedCheckpoints(db, planKeyRange('ab'));
    expect(ab).toHaveLength(18);
    expect(ab.every((k) => k.planId === 'ab')).toBe(true);
    const stage1 = storedCheckpoints(db, stageKeyRange('abc', 1));
    expect(stage1.map((k) => k.shard)).toEqual([0, 1, 255, 256, 70_000, 0xffffffff]);
    expect(stage1.every((k) => k.planId === 'abc' && k.stage === 1)).toBe(true);
    // Each written value reads back from its block.
    for (const [k, [planId, stage, shard]] of [...entries].reverse().entries()) expect([...(readCheckpoint(db, planId, stage, shard) as Uint8Array)]).toEqual([k & 0xff]);
    expect(readCheckpoint(db, 'ab', 0, 2)).toBeUndefined();
    await store.close();
  });

  it('a block keeps what earlier batches wrote in it, takes the newest of a shard, and is removed with its last shard', async () => {
    const store = openStore({ path: `${dir.path}/merge` });
    const db = checkpointDb(store);
    const keys = new BlockKeys('plan', 0);
    const v = (shard: number, version: number) => Buffer.from(`${shard}:${version}`.repeat((shard % 3) + 1));
    const expected = new Map<number, Buffer>();
    // Three batches over overlapping ranges, in any order within and across blocks.
    const batches = [[0, 5, 31, 32, 40], [40, 1, 63, 64, 5], [2, 31, 100]];
    for (const [b, shards] of batches.entries()) {
      await store.write(() => writeCheckpoints(db, keys, shards, shards.map((s) => v(s, b))));
      for (const s of shards) expected.set(s, v(s, b));
    }
    const stored = storedCheckpoints(db).map((c) => c.shard);
    expect(stored).toEqual([...expected.keys()].sort((a, b) => a - b));
    for (const [shard, value] of expected) expect(Buffer.from(readCheckpoint(db, 'plan', 0, shard) as Uint8Array)).toEqual(value);
    // Removing: a shard at a time, and a whole block.
    await store.write(() => writeCheckpoints(db, keys, [5, 64, 100], [undefined, undefined, undefined]));
    expect(readCheckpoint(db, 'plan', 0, 5)).toBeUndefined();
    expect(db.getBinary(blockKey('plan', 0, 64))).toBeUndefined();
    expect(db.getBinary(blockKey('plan', 0, 96))).toBeUndefined();
    expect(storedCheckpoints(db).map((c) => c.shard)).toEqual([0, 1, 2, 31, 32, 40, 63]);
    await store.close();
  });

  it('a block lays out any set of its 32 slots and reads each back', () => {
    for (let trial = 0; trial < 200; trial++) {
      const slots = Array.from({ length: BLOCK_SHARDS }, (_, k) => ((trial * 7919 + k * 104729) % 3 === 0 ? randomBytes((k * trial) % 50) : undefined));
      if (trial === 0) slots.fill(randomBytes(3));
      const seen: (Uint8Array | undefined)[] = new Array(BLOCK_SHARDS).fill(undefined);
      forEachBlockRecord(encodeBlock(slots), (k, r) => (seen[k] = r));
      expect(seen.map((r) => (r ? Buffer.from(r).toString('hex') : null))).toEqual(slots.map((r) => (r ? r.toString('hex') : null)));
    }
  });

  it('refuses a plan id with NUL in it (it would run into the next plan)', () => {
    expect(() => blockKey('a\u0000b', 0, 0)).toThrow(/NUL/);
  });
});

describe('failed checkpoints (encodeFailed)', () => {
  it('keep the error\'s message, class and code (a NUL in the message too); one written before classes were kept reads as its message', () => {
    const cp = decodeCheckpoint(encodeFailed('00ff00ff00ff00ff', 3, 7, { message: 'no\u0000price', name: 'NonRetryableError', code: 'NO_PRICE' }));
    expect(cp).toMatchObject({ p: Phase.Failed, a: 3, ms: 7, c: '00ff00ff00ff00ff' });
    expect(failureOf(cp)).toEqual({ error: 'no\u0000price', error_class: 'NonRetryableError', error_code: 'NO_PRICE' });
    // The old layout: the header (no flag) and the message alone.
    const old = Buffer.alloc(24 + 4);
    old[0] = Phase.Failed;
    old.writeUInt16BE(2, 2);
    old.write('boom', 24, 'utf8');
    expect(failureOf(decodeCheckpoint(old))).toEqual({ error: 'boom' });
  });
});

describe('done checkpoints (encodeDoneShard)', () => {
  const sha = (...parts: Uint8Array[]) => hash('sha256', Buffer.concat(parts), 'buffer');

  it('hold the spec digest and leaf, also written at slot j of the batch arrays, and nothing else moves', () => {
    expect(nativeHashing).toBe(true);
    for (const len of [0, 1, 74, 1000]) {
      const n = 5;
      const addresses = randomBytes(n * 16);
      const digests = new Uint8Array(n * 32);
      const leaves = new Uint8Array(n * 32);
      const j = len % n;
      const output = randomBytes(len);
      const encoded = encodeDoneShard(output, addresses, j, 3, 42, digests, leaves);
      const cp = decodeCheckpoint(encoded);
      const casId = addresses.subarray(j * 16, j * 16 + 8).toString('hex');
      expect(encoded.subarray(8, 24)).toEqual(addresses.subarray(j * 16, j * 16 + 16));
      const digest = sha(output);
      const leaf = sha(Buffer.from([0]), Buffer.from(casId, 'ascii'), digest);
      expect(cp).toMatchObject({ p: Phase.Done, c: casId, a: 3, ms: 42, r: false, arts: [] });
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
      import('./src/hxo/checkpoints/checkpoint-records.ts').then(async (m) => {
        const { nativeHashing } = await import('./src/kernel/sha256.ts');
        const d = new Uint8Array(96), l = new Uint8Array(96);
        const cp = m.encodeDoneShard(Buffer.from('an output'), Buffer.from('00112233445566778899aabbccddeeff0011223344556677'.repeat(2), 'hex'), 2, 7, 9, d, l);
        console.log(nativeHashing, Buffer.concat([cp, d, l]).toString('hex'));
      })`;
    const run = (env: Record<string, string>) => execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO_ROOT, env: { ...process.env, ...env }, encoding: 'utf8' }).trim().split(' ');
    const [nativeOn, withAddon] = run({});
    const [nativeOff, withoutAddon] = run({ XYN_NATIVE_HASHING: '0' });
    expect([nativeOn, nativeOff]).toEqual(['true', 'false']);
    expect(withoutAddon).toBe(withAddon);
  });

  it('the native call refuses buffers of the wrong size instead of writing out of bounds', () => {
    const ok = () => [Buffer.from('x'), new Uint8Array(32), new Uint8Array(89), new Uint8Array(64), new Uint8Array(64)] as const;
    expect(() => shardDone?.(...ok(), 1)).not.toThrow();
    expect(() => shardDone?.(...ok(), 2)).toThrow(RangeError);
    const [o, c, , d, l] = ok();
    expect(() => shardDone?.(o, c, new Uint8Array(88), d, l, 0)).toThrow(RangeError);
  });
});

describe('done checkpoints that name artifacts', () => {
  it('keep the same digest, leaf and output, name the artifacts, and a memo hit copies them marked reused', () => {
    const address = randomBytes(16);
    const output = Buffer.from('an output that refers to two artifacts');
    const arts = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
    const [d1, l1, d2, l2] = [new Uint8Array(32), new Uint8Array(32), new Uint8Array(32), new Uint8Array(32)];
    const plain = decodeCheckpoint(encodeDoneShard(output, address, 0, 1, 5, d1, l1));
    const named = encodeDoneShard(output, address, 0, 1, 5, d2, l2, arts);
    const cp = decodeCheckpoint(named);
    expect(cp.arts).toEqual(arts);
    expect(plain.arts).toEqual([]);
    expect(Buffer.from(cp.o as Uint8Array)).toEqual(output);
    expect(Buffer.from(cp.d as Uint8Array)).toEqual(Buffer.from(plain.d as Uint8Array));
    expect(Buffer.from(cp.l as Uint8Array)).toEqual(Buffer.from(plain.l as Uint8Array));
    expect(Buffer.from(l2)).toEqual(Buffer.from(l1));
    expect(Buffer.from(doneOutput(named, address) as Uint8Array)).toEqual(output);
    expect(checkpointArtifacts(named)).toEqual(arts);
    const [d3, l3] = [new Uint8Array(64), new Uint8Array(64)];
    const reused = decodeCheckpoint(encodeReused(named, 1, 2, 9, d3, l3));
    expect(reused).toMatchObject({ r: true, a: 2, ms: 9, arts, c: cp.c });
    expect(Buffer.from(reused.o as Uint8Array)).toEqual(output);
    expect(Buffer.from(l3.subarray(32))).toEqual(Buffer.from(l1));
  });
});

describe('memo hits (doneOutput)', () => {
  it('take the output of a done checkpoint of the same address (all 16 bytes), and nothing corrupted, failed or foreign', () => {
    const address = randomBytes(32);
    const output = Buffer.from('an output');
    const cp = encodeDoneShard(output, address, 0, 1, 0, new Uint8Array(32), new Uint8Array(32));
    expect(Buffer.from(doneOutput(cp, address) as Uint8Array)).toEqual(output);
    // The same cas_id (first 8 bytes) with another address is not the same shard.
    const sameCasId = Buffer.from(address);
    sameCasId[12] = (sameCasId[12] as number) ^ 1;
    expect(doneOutput(cp, sameCasId)).toBeUndefined();
    expect(doneOutput(undefined, address)).toBeUndefined();
    expect(doneOutput(encodeFailed(address.toString('hex', 0, 8), 1, 0, { message: 'boom', name: 'Error', code: 'ERROR' }), address)).toBeUndefined();
    const corrupted = Buffer.from(cp);
    corrupted[corrupted.length - 1] = (corrupted[corrupted.length - 1] as number) ^ 1;
    expect(doneOutput(corrupted, address)).toBeUndefined();
  });
});
