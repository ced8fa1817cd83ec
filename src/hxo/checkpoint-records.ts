/**
 * The HXO engine's records in LMDB, shared by the plan actor (main thread)
 * and the shard workers (pool threads).
 *
 * - `checkpoints`: plan_id ‖ 0x00 ‖ stage (u16 BE) ‖ shard (u32 BE) → a binary
 *   checkpoint, for every shard that ended for good. Absent means pending: a
 *   claimed or running shard of a crashed node is therefore pending again on
 *   resume, by construction. Raw byte keys sort as (plan, stage, shard) and
 *   cost a copy to write (an encoded array key costs a third of a put more).
 * - `memo`: full content address (first 16 raw bytes) ‖ executor config
 *   digest (first 8) → the key of the done checkpoint that holds the output.
 *   The address covers kind, executor and input; the config is in the key
 *   because it changes outputs (`rounds`) without changing the address.
 *   Entries are kept small (a reference, not a second copy of the output)
 *   because content addresses are random: each memo write lands on a page of
 *   its own, and a million of them are written per plan.
 * - `plans`: plan_id → PlanRecord (msgpack).
 *
 * A checkpoint is a fixed header then a tail (no per-shard msgpack: a million
 * of them are written per plan):
 *   0 phase | 1 flags (1 = reused) | 2-3 attempts (u16) | 4-7 ms (u32) | 8-23 cas_id (ascii)
 *   done:   24-55 output_digest | 56-87 leaf hash | 88.. output (canonical msgpack)
 *   failed: 24.. error message (utf8)
 */
import type { Database } from 'lmdb';
import type { Store } from '../store/env.ts';
import { sha256, sha256Into, shardDone } from '../kernel/sha256.ts';
import { leafHashInto } from './merkle.ts';
import { casIdAt } from './address.ts';

export const CHECKPOINTS_DB = 'checkpoints';
export const MEMO_DB = 'memo';
export const PLANS_DB = 'plans';

export const enum Phase {
  Done = 1,
  Failed = 2,
}

export interface Checkpoint {
  /** cas_id */
  c: string;
  p: Phase;
  /** attempts made */
  a: number;
  ms: number;
  /** true when the output came from the memo */
  r: boolean;
  /** output_digest, leaf hash, output bytes (done only) */
  d?: Uint8Array;
  l?: Uint8Array;
  o?: Uint8Array;
  /** the last error (failed only) */
  e?: string;
}

const HEADER = 24;
const DONE_TAIL = HEADER + 64;

/**
 * Done shard j of a batch: hashes its output (output_digest) and its leaf
 * (0x00 ‖ cas_id ‖ digest, as merkle.ts defines it), writes both at slot j of
 * `digests` and `leaves`, and returns its checkpoint. `cas` holds the batch's
 * raw cas_ids, 8 bytes each. One native call when the addon is built.
 */
export function encodeDoneShard(output: Uint8Array, cas: Uint8Array, j: number, attempts: number, ms: number, reused: boolean, digests: Uint8Array, leaves: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(DONE_TAIL + output.length);
  header(b, Phase.Done, reused, attempts, ms);
  if (shardDone) {
    shardDone(output, cas, b, digests, leaves, j);
    return b;
  }
  const casId = casIdAt(cas, j);
  sha256Into(output, digests, j * 32);
  const digest = digests.subarray(j * 32, j * 32 + 32);
  leafHashInto(casId, digest, leaves, j * 32);
  b.write(casId, 8, 'latin1');
  b.set(digest, HEADER);
  b.set(leaves.subarray(j * 32, j * 32 + 32), HEADER + 32);
  b.set(output, DONE_TAIL);
  return b;
}

export function encodeFailed(casId: string, attempts: number, ms: number, error: string): Buffer {
  const message = Buffer.from(error, 'utf8');
  const b = Buffer.allocUnsafe(HEADER + message.length);
  header(b, Phase.Failed, false, attempts, ms);
  b.write(casId.padEnd(16, ' ').slice(0, 16), 8, 'latin1');
  b.set(message, HEADER);
  return b;
}

export function decodeCheckpoint(b: Uint8Array): Checkpoint {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const cp: Checkpoint = {
    p: buf[0] as Phase,
    r: ((buf[1] as number) & 1) === 1,
    a: buf.readUInt16BE(2),
    ms: buf.readUInt32BE(4),
    c: buf.toString('latin1', 8, HEADER),
  };
  if (cp.p === Phase.Done) {
    cp.d = buf.subarray(HEADER, HEADER + 32);
    cp.l = buf.subarray(HEADER + 32, DONE_TAIL);
    cp.o = buf.subarray(DONE_TAIL);
  } else {
    cp.e = buf.toString('utf8', HEADER);
  }
  return cp;
}

/** Bytes 0..8: phase, flags, attempts, ms. */
function header(b: Buffer, phase: Phase, reused: boolean, attempts: number, ms: number): void {
  b[0] = phase;
  b[1] = reused ? 1 : 0;
  b.writeUInt16BE(Math.min(attempts, 0xffff), 2);
  b.writeUInt32BE(Math.min(Math.max(0, Math.round(ms)), 0xffffffff), 4);
}

export type CheckpointDb = Database<Uint8Array, Buffer>;

/** The checkpoints database of a store (the same options in every thread). */
export function checkpointDb(store: Store): CheckpointDb {
  return store.db<Buffer, Uint8Array>(CHECKPOINTS_DB, { binary: true, binaryKeys: true });
}

/** The key of one shard's checkpoint. */
export function checkpointKey(planId: string, stage: number, shard: number): Buffer {
  return new CheckpointKeys(planId, stage).at(shard);
}

/** Where a stage's checkpoint keys begin and end (`end` excluded), for range scans. */
export function stageKeyRange(planId: string, stage: number): { start: Buffer; end: Buffer } {
  return { start: checkpointKey(planId, stage, 0), end: checkpointKey(planId, stage + 1, 0) };
}

/** Every checkpoint key of a plan lies in [start, end). */
export function planKeyRange(planId: string): { start: Buffer; end: Buffer } {
  const prefix = Buffer.from(planId + '\u0000', 'utf8');
  const end = Buffer.from(prefix);
  end[end.length - 1] = 1;
  return { start: prefix, end };
}

export function parseCheckpointKey(key: Uint8Array): { planId: string; stage: number; shard: number } {
  const b = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return { planId: b.toString('utf8', 0, b.length - 7), stage: b.readUInt16BE(b.length - 6), shard: b.readUInt32BE(b.length - 4) };
}

/**
 * Checkpoint keys of one stage, written into one buffer: `at(i)` returns the
 * same Buffer each time, valid until the next call (lmdb-js copies a key when
 * it is put or read, so a write loop needs no key allocation).
 */
export class CheckpointKeys {
  private readonly key: Buffer;
  private readonly shardAt: number;

  constructor(planId: string, stage: number) {
    if (planId.includes('\u0000')) throw new RangeError('a plan id cannot contain NUL');
    const prefix = Buffer.from(planId, 'utf8');
    this.key = Buffer.alloc(prefix.length + 7);
    prefix.copy(this.key, 0);
    this.key.writeUInt16BE(stage, prefix.length + 1);
    this.shardAt = prefix.length + 3;
  }

  at(shard: number): Buffer {
    this.key.writeUInt32BE(shard, this.shardAt);
    return this.key;
  }
}

export type MemoDb = Database<Uint8Array, Buffer>;

export function memoDb(store: Store): MemoDb {
  return store.db<Buffer, Uint8Array>(MEMO_DB, { binary: true, binaryKeys: true });
}

/** The memo key of a shard, from its raw full address and the raw config digest. */
export function memoKey(address: Uint8Array, configDigest: Uint8Array): Buffer {
  const key = Buffer.allocUnsafe(24);
  key.set(address.subarray(0, 16), 0);
  key.set(configDigest.subarray(0, 8), 16);
  return key;
}

/**
 * The output in a done checkpoint of shard `casId`, or undefined if it is not
 * one — or if the output no longer hashes to the digest stored with it (a
 * memo hit must not spread a corrupted output to other plans).
 */
export function doneOutput(checkpoint: Uint8Array | undefined, casId: string): Uint8Array | undefined {
  if (!checkpoint || checkpoint.length < DONE_TAIL || checkpoint[0] !== Phase.Done) return undefined;
  const b = Buffer.from(checkpoint.buffer, checkpoint.byteOffset, checkpoint.byteLength);
  if (b.toString('latin1', 8, HEADER) !== casId) return undefined;
  const output = b.subarray(DONE_TAIL);
  return sha256(output).equals(b.subarray(HEADER, HEADER + 32)) ? output : undefined;
}
