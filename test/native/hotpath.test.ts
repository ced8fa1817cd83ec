/**
 * native-bench/hotpath (the C ceiling for the HXO hot path) must agree with the
 * spec bit for bit: for small plans its merkle root equals one computed here in
 * TypeScript straight from the spec, and its LMDB "checkpoints" DB holds one
 * well-formed entry per shard.
 *
 * The checkpoints are read with Debian's `mdb_dump` (lmdb-utils), not the
 * `lmdb` npm package: lmdb-js 3.x bundles LMDB's data format version 2, while
 * Debian's liblmdb 0.9 writes format version 1, and lmdb-js segfaults opening
 * such an environment (the two file formats are not interchangeable).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../kernel/helpers.ts';
import { canonicalEncode } from '../../src/core/canonical.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const buildScript = path.join(root, 'native-bench/build.sh');
const binary = path.join(root, 'native-bench/build/hotpath');

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

interface Shard {
  casId: string;
  outputDigest: Buffer;
}

/** The spec's per-shard work: cas_id and output_digest of shard k. */
function referenceShard(k: number, shards: number, perShard: number, rounds: number): Shard {
  const input = { start: k * perShard, end: Math.min((k + 1) * perShard, shards * perShard) };
  const casId = sha256(canonicalEncode({ executor: 'hash', input, kind: 'compute.hash' }))
    .toString('hex')
    .slice(0, 16);
  let h = sha256(canonicalEncode(input));
  for (let r = 1; r < rounds; r++) h = sha256(h);
  const outputDigest = sha256(canonicalEncode({ digest: h.toString('hex') }));
  return { casId, outputDigest };
}

/** RFC 9162 §2.1.1 merkle tree hash, recursive, straight from the RFC. */
function mth(leaves: Buffer[]): Buffer {
  const n = leaves.length;
  if (n === 0) return sha256(new Uint8Array(0));
  if (n === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < n) k *= 2;
  return sha256(Buffer.from([0x01]), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

function referenceRoot(shards: number, perShard: number, rounds: number): string {
  const leaves: Buffer[] = [];
  for (let k = 0; k < shards; k++) {
    const { casId, outputDigest } = referenceShard(k, shards, perShard, rounds);
    leaves.push(sha256(Buffer.from([0x00]), Buffer.from(casId, 'ascii'), outputDigest));
  }
  return mth(leaves).toString('hex');
}

/** Every (key, value) of the named DB, in key order, read with `mdb_dump`. */
function dumpDb(dir: string, name: string): [Buffer, Buffer][] {
  const text = execFileSync('mdb_dump', ['-s', name, dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const lines = text.split('\n');
  const start = lines.indexOf('HEADER=END');
  const end = lines.indexOf('DATA=END');
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  const body = lines.slice(start + 1, end).map((l) => Buffer.from(l.trim(), 'hex'));
  expect(body.length % 2).toBe(0);
  const pairs: [Buffer, Buffer][] = [];
  for (let i = 0; i < body.length; i += 2) pairs.push([body[i]!, body[i + 1]!]);
  return pairs;
}

interface HotpathResult {
  shards: number;
  seconds: number;
  shards_per_s: number;
  merkle_root: string;
  phases: { execute_checkpoint_s: number; merkle_s: number };
}

describe('native-bench hotpath', () => {
  let tmp: string;
  let cleanup: () => void;

  beforeAll(() => {
    execFileSync(buildScript, { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
    ({ path: tmp, cleanup } = tempDir());
  }, 300_000);

  afterAll(() => {
    if (tmp) cleanup();
  });

  it('canonicalEncode gives the verified msgpack bytes', () => {
    const task = { kind: 'compute.hash', input: { start: 0, end: 1 }, executor: 'hash' };
    expect(Buffer.from(canonicalEncode(task)).toString('hex')).toBe(
      'de0003a86578656375746f72a468617368a5696e707574de0002a3656e6401a5737461727400a46b696e64ac636f6d707574652e68617368',
    );
    expect(Buffer.from(canonicalEncode({ start: 300, end: 70000 })).toString('hex')).toBe(
      'de0002a3656e64ce00011170a57374617274cd012c',
    );
  });

  const plans: [shards: number, perShard: number, rounds: number][] = [
    [1, 1, 1],
    [2, 1, 1],
    [3, 1, 1],
    [5, 1, 1],
    [1000, 1, 1],
    [1025, 1, 1],
    [100, 7, 3],
  ];

  it.each(plans)('N=%i P=%i R=%i: same merkle root and N checkpoints', (shards, perShard, rounds) => {
    const dir = path.join(tmp, `n${shards}-p${perShard}-r${rounds}`);
    const args = ['--shards', String(shards), '--per-shard', String(perShard), '--rounds', String(rounds)];
    // A small batch so that several transactions are committed.
    const out = execFileSync(binary, [...args, '--batch', '300', '--dir', dir], { encoding: 'utf8' });
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]!) as HotpathResult;

    expect(result.shards).toBe(shards);
    expect(result.merkle_root).toBe(referenceRoot(shards, perShard, rounds));
    expect(result.seconds).toBeGreaterThan(0);
    expect(result.phases.execute_checkpoint_s).toBeGreaterThanOrEqual(0);
    expect(result.phases.merkle_s).toBeGreaterThanOrEqual(0);

    // One entry per shard: key = 8-byte big-endian index, value = cas_id (16
    // ASCII bytes) | phase 2 (done) | output_digest (32 raw bytes).
    const entries = dumpDb(dir, 'checkpoints');
    expect(entries).toHaveLength(shards);
    entries.forEach(([key, value], k) => {
      expect(key.length).toBe(8);
      expect(key.readBigUInt64BE()).toBe(BigInt(k));
      const { casId, outputDigest } = referenceShard(k, shards, perShard, rounds);
      expect(value.length).toBe(16 + 1 + 32);
      expect(value.subarray(0, 16).toString('ascii')).toBe(casId);
      expect(value[16]).toBe(2);
      expect(value.subarray(17).equals(outputDigest)).toBe(true);
    });
  });

  it('exits 2 with a one-line message on bad arguments', () => {
    for (const args of [[], ['--shards', 'x', '--dir', tmp], ['--shards', '3'], ['--shards', '3', '--bogus', '--dir', tmp]]) {
      let status: number | null = null;
      let stderr = '';
      try {
        execFileSync(binary, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (err) {
        const e = err as { status: number | null; stderr: string };
        status = e.status;
        stderr = e.stderr;
      }
      expect(status).toBe(2);
      expect(stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
