/**
 * The HXO engine's records in LMDB, shared by the plan actor (main thread)
 * and the shard workers (pool threads).
 *
 * - `checkpoints`: a plan's shard checkpoints, BLOCK_SHARDS (64) shards to an
 *   LMDB entry (a *block*): key plan_id ‖ 0x00 ‖ stage (u16 BE) ‖ first shard
 *   (u32 BE, a multiple of 64), value the checkpoints of the block's shards
 *   that ended for good. Absent means pending: a claimed or running shard of
 *   a crashed node is therefore pending again on resume, by construction. A
 *   million shards are written per plan, and an LMDB put costs about as much
 *   as the rest of a shard's work; a block costs one put (and one read, to
 *   merge with what an earlier batch left in it) for 64 shards, and a shard is
 *   found with one point read. (Blocks of a few pages: LMDB stores a value
 *   over ~2 KB in whole pages of its own, and the last one's slack is a
 *   smaller share of a bigger block.)
 *
 * Beside each block, in a database of its own, a 32-byte summary of it
 * (checkpoint-summary.ts), kept in step by `writeCheckpoints`.
 *
 * A block: a bitmap of u32 BE words (bit k of word w: shard first+32w+k is
 * in it) ‖ u32 BE end offset of each present shard's checkpoint, in order ‖
 * the checkpoints.
 *
 * A checkpoint is a fixed header then a tail (no per-shard msgpack):
 *   0 phase | 1 flags (1 = reused, 2 = artifacts, 4 = error class) | 2-3 attempts (u16) | 4-7 ms (u32) |
 *   8-23 the shard's address, raw, first 16 bytes (the cas_id is the hex of the first 8)
 *   done:   24-55 output_digest | 56-87 leaf hash |
 *           [with flag 2: 88-89 count (u16) | count × 32 raw sha256 of the artifacts the output refers to] |
 *           then the output (canonical msgpack)
 *   failed: 24.. error message (utf8); with flag 4: class NUL code NUL message
 * A done checkpoint names its artifacts so that a memo hit copies the
 * references with the output, and retention keeps an artifact while any
 * kept shard refers to it.
 * The full address is kept (not just the cas_id) so that a memo hit is
 * matched on 128 bits of the address, not on the 64 of a cas_id.
 */
import type { Database } from 'lmdb';
import type { Store } from '../../store/env.ts';
import { sha256Into } from '../../kernel/sha256.ts';
import { shardDone } from '../certify/leaf-hash.ts';
import { leafHashInto } from '../certify/merkle.ts';
import { CheckpointFormatError } from '../engine-errors.ts';
import { popcount, summarizeBlock, summaryDb, type SummaryDb } from './checkpoint-summary.ts';

export const CHECKPOINTS_DB = 'checkpoints';

/** Why a shard failed: its error's message, class and code (as serializeError gives them). */
export interface ShardFailure {
  message: string;
  name: string;
  code: string;
}

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
  /** the last error (failed only): its message, and where known its class and code */
  e?: string;
  en?: string;
  ec?: string;
  /** sha256 (hex) of the artifacts the output refers to (done only) */
  arts: string[];
}

/** Bytes of a shard's address kept in its checkpoint (and compared on a memo hit). */
export const ADDRESS_BYTES = 16;
const HEADER = 8 + ADDRESS_BYTES;
const DONE_TAIL = HEADER + 64;
const REUSED = 1;
const WITH_ARTIFACTS = 2;
const ERROR_CLASS = 4;

/**
 * Done shard j of a batch: hashes its output (output_digest) and its leaf
 * (0x00 ‖ cas_id ‖ digest, as merkle.ts defines it), writes both at slot j of
 * `digests` and `leaves`, and returns its checkpoint. `addresses` holds the
 * batch's raw addresses, ADDRESS_BYTES each. One native call when the addon is built.
 */
export function encodeDoneShard(output: Uint8Array, addresses: Uint8Array, j: number, attempts: number, ms: number, digests: Uint8Array, leaves: Uint8Array, artifacts: readonly string[] = []): Buffer {
  if (artifacts.length > 0) return withArtifacts(encodeDoneShard(output, addresses, j, attempts, ms, digests, leaves), artifacts);
  const b = Buffer.allocUnsafe(DONE_TAIL + output.length);
  header(b, Phase.Done, 0, attempts, ms);
  if (shardDone) {
    shardDone(output, addresses, b, digests, leaves, j);
    return b;
  }
  b.set(addresses.subarray(j * ADDRESS_BYTES, (j + 1) * ADDRESS_BYTES), 8);
  sha256Into(output, digests, j * 32);
  const digest = digests.subarray(j * 32, j * 32 + 32);
  leafHashInto(b.toString('hex', 8, 16), digest, leaves, j * 32);
  b.set(digest, HEADER);
  b.set(leaves.subarray(j * 32, j * 32 + 32), HEADER + 32);
  b.set(output, DONE_TAIL);
  return b;
}

/** A done checkpoint (without artifacts) with these artifacts named in it. */
function withArtifacts(plain: Buffer, artifacts: readonly string[]): Buffer {
  const b = Buffer.allocUnsafe(plain.length + 2 + 32 * artifacts.length);
  plain.copy(b, 0, 0, DONE_TAIL);
  b[1] = (b[1] as number) | WITH_ARTIFACTS;
  b.writeUInt16BE(artifacts.length, DONE_TAIL);
  artifacts.forEach((hash, k) => b.write(hash, DONE_TAIL + 2 + 32 * k, 32, 'hex'));
  plain.copy(b, DONE_TAIL + 2 + 32 * artifacts.length, DONE_TAIL);
  return b;
}

/** A failed shard's checkpoint; only its cas_id is known of its address (the rest is zero). */
export function encodeFailed(casId: string, attempts: number, ms: number, failure: ShardFailure): Buffer {
  const message = Buffer.from(`${failure.name}\0${failure.code}\0${failure.message}`, 'utf8');
  const b = Buffer.alloc(HEADER + message.length);
  header(b, Phase.Failed, ERROR_CLASS, attempts, ms);
  b.write(casId, 8, 8, 'hex');
  b.set(message, HEADER);
  return b;
}

/**
 * A memo hit's checkpoint: the earlier done checkpoint, marked reused, with
 * this run's attempt and time. Slot j of `digests` and `leaves` gets its
 * digest and leaf (the same shard and output give the same leaf).
 */
export function encodeReused(earlier: Uint8Array, j: number, attempts: number, ms: number, digests: Uint8Array, leaves: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(earlier.length);
  b.set(earlier);
  header(b, Phase.Done, REUSED | ((earlier[1] as number) & WITH_ARTIFACTS), attempts, ms);
  // Byte loops: a view per copy would be garbage a million times a plan.
  for (let k = 0; k < 32; k++) {
    digests[j * 32 + k] = b[HEADER + k] as number;
    leaves[j * 32 + k] = b[HEADER + 32 + k] as number;
  }
  return b;
}

export function decodeCheckpoint(b: Uint8Array): Checkpoint {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const cp: Checkpoint = {
    p: buf[0] as Phase,
    r: ((buf[1] as number) & REUSED) !== 0,
    a: buf.readUInt16BE(2),
    ms: buf.readUInt32BE(4),
    c: buf.toString('hex', 8, 16),
    arts: [],
  };
  if (cp.p === Phase.Done) {
    cp.d = buf.subarray(HEADER, HEADER + 32);
    cp.l = buf.subarray(HEADER + 32, DONE_TAIL);
    const at = outputAt(buf);
    for (let k = DONE_TAIL + 2; k < at; k += 32) cp.arts.push(buf.toString('hex', k, k + 32));
    cp.o = buf.subarray(at);
  } else if (((buf[1] as number) & ERROR_CLASS) === 0) {
    cp.e = buf.toString('utf8', HEADER); // written before failures kept their class
  } else {
    const [name, code, ...message] = buf.toString('utf8', HEADER).split('\0');
    Object.assign(cp, { en: name, ec: code, e: message.join('\0') });
  }
  return cp;
}

/** Why a shard failed, as reports, events and status say it: the message, and its error's class and code when known. */
export function failureOf(cp: Checkpoint | undefined): { error: string; error_class?: string; error_code?: string } {
  return { error: cp?.e ?? 'failed', ...(cp?.en !== undefined ? { error_class: cp.en, error_code: cp.ec as string } : {}) };
}

/**
 * The output of a done checkpoint of the shard at this raw address (its first
 * ADDRESS_BYTES), or undefined if it is not one — or if the output no longer
 * hashes to the digest stored with it (a memo hit must not spread a corrupted
 * output to other plans).
 */
export function doneOutput(checkpoint: Uint8Array | undefined, address: Uint8Array): Uint8Array | undefined {
  if (!checkpoint || checkpoint.length < DONE_TAIL || checkpoint[0] !== Phase.Done) return undefined;
  for (let k = 0; k < ADDRESS_BYTES; k++) if (checkpoint[8 + k] !== address[k]) return undefined;
  const b = Buffer.from(checkpoint.buffer, checkpoint.byteOffset, checkpoint.byteLength);
  const output = b.subarray(outputAt(b));
  sha256Into(output, digestScratch, 0);
  for (let k = 0; k < 32; k++) if (digestScratch[k] !== b[HEADER + k]) return undefined;
  return output;
}

const digestScratch = new Uint8Array(32);

/** Where a done checkpoint's output begins (after its artifacts, if it names any). */
function outputAt(b: Buffer): number {
  return ((b[1] as number) & WITH_ARTIFACTS) === 0 ? DONE_TAIL : DONE_TAIL + 2 + 32 * b.readUInt16BE(DONE_TAIL);
}

/** A done checkpoint's leaf hash (a view), or undefined for a failed one. */
export function doneLeaf(checkpoint: Uint8Array): Uint8Array | undefined {
  return checkpoint[0] === Phase.Done ? checkpoint.subarray(HEADER + 32, DONE_TAIL) : undefined;
}

/** The artifacts (sha256 hex) a done checkpoint names. */
export function checkpointArtifacts(checkpoint: Uint8Array): string[] {
  if (checkpoint[0] !== Phase.Done || ((checkpoint[1] as number) & WITH_ARTIFACTS) === 0) return [];
  return decodeCheckpoint(checkpoint).arts;
}

/** The owner (store/cas.ts) of the artifacts a plan's done checkpoints name. */
export function planArtifactOwner(planId: string): string {
  return `plan:${planId}`;
}

/** Bytes 0..8: phase, flags, attempts, ms. */
function header(b: Buffer, phase: Phase, flags: number, attempts: number, ms: number): void {
  b[0] = phase;
  b[1] = flags;
  b.writeUInt16BE(Math.min(attempts, 0xffff), 2);
  b.writeUInt32BE(Math.min(Math.max(0, Math.round(ms)), 0xffffffff), 4);
}

// ---------------------------------------------------------------------------
// Blocks

/**
 * The layout of checkpoints (blocks of 64, raw addresses) this code reads and
 * writes. A store with checkpoints and no mark is of format 1 (one shard an
 * entry, ASCII cas_ids).
 */
export const CHECKPOINT_FORMAT = 2;
const FORMAT_KEY = 'hxo.checkpoint_format';

/** Marks a store without checkpoints as ours; refuses one whose checkpoints are in another format. */
export function checkCheckpointFormat(store: Store): void {
  const meta = store.db<string, unknown>('meta');
  const found = meta.get(FORMAT_KEY);
  if (found === CHECKPOINT_FORMAT) return;
  if (found === undefined && checkpointDb(store).getKeysCount({ limit: 1 }) === 0) {
    meta.putSync(FORMAT_KEY, CHECKPOINT_FORMAT);
    return;
  }
  throw new CheckpointFormatError(store.path, typeof found === 'number' ? found : 1, CHECKPOINT_FORMAT);
}

/** Shards per block. */
export const BLOCK_SHARDS = 64;

export type CheckpointDb = Database<Uint8Array, Buffer>;

/**
 * Each checkpoints database's summaries (checkpoint-summary.ts), opened with
 * it: whoever writes checkpoints writes through `writeCheckpoints`, which
 * keeps the two in step without its callers (pool threads, the engine)
 * holding a second database.
 */
const summaries = new WeakMap<CheckpointDb, SummaryDb>();

/** The checkpoints database of a store (the same options in every thread), with its summaries. */
export function checkpointDb(store: Store): CheckpointDb {
  const db = store.db<Buffer, Uint8Array>(CHECKPOINTS_DB, { binary: true, binaryKeys: true });
  if (!summaries.has(db)) summaries.set(db, summaryDb(store));
  return db;
}

/** The summaries kept beside a checkpoints database. */
export function summariesOf(db: CheckpointDb): SummaryDb {
  const found = summaries.get(db);
  if (!found) throw new Error('a checkpoints database opened without checkpointDb(): its summaries are unknown');
  return found;
}

/** The key of the block holding shard `shard` of key stage `stage`. */
export function blockKey(planId: string, stage: number, shard: number): Buffer {
  return new BlockKeys(planId, stage).at(shard);
}

/** Where a stage's block keys begin and end (`end` excluded), for range scans. */
export function stageKeyRange(planId: string, stage: number): { start: Buffer; end: Buffer } {
  return { start: blockKey(planId, stage, 0), end: blockKey(planId, stage + 1, 0) };
}

/** Every block key of a plan lies in [start, end). */
export function planKeyRange(planId: string): { start: Buffer; end: Buffer } {
  const prefix = Buffer.from(planId + '\u0000', 'utf8');
  const end = Buffer.from(prefix);
  end[end.length - 1] = 1;
  return { start: prefix, end };
}

export function parseBlockKey(key: Uint8Array): { planId: string; stage: number; first: number } {
  const b = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return { planId: b.toString('utf8', 0, b.length - 7), stage: b.readUInt16BE(b.length - 6), first: b.readUInt32BE(b.length - 4) };
}

/**
 * Block keys of one stage, written into one buffer: `at(i)` returns the same
 * Buffer each time (the key of the block holding shard i), valid until the
 * next call (lmdb-js copies a key when it is put or read).
 */
export class BlockKeys {
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
    this.key.writeUInt32BE(shard - (shard % BLOCK_SHARDS), this.shardAt);
    return this.key;
  }
}

/** Bitmap words (u32) at the head of a block. */
const WORDS = BLOCK_SHARDS / 32;

/** Is shard k of the block in it, and how many before it are (its place among the block's checkpoints)? */
function presence(b: Buffer, k: number): { present: boolean; before: number; count: number } {
  let before = 0;
  let count = 0;
  for (let w = 0; w < WORDS; w++) {
    const bits = b.readUInt32BE(4 * w);
    const n = popcount(bits);
    count += n;
    if (w < k >>> 5) before += n;
    else if (w === k >>> 5) before += popcount(bits & ((1 << (k & 31)) - 1));
  }
  return { present: ((b.readUInt32BE(4 * (k >>> 5)) >>> (k & 31)) & 1) === 1, before, count };
}

/** The checkpoint of shard `k` (0 ≤ k < BLOCK_SHARDS) of a block, or undefined. */
function blockRecord(block: Uint8Array, k: number): Uint8Array | undefined {
  const b = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  const { present, before, count } = presence(b, k);
  if (!present) return undefined;
  const ends = 4 * WORDS;
  const data = ends + 4 * count;
  const start = before === 0 ? 0 : b.readUInt32BE(ends + 4 * (before - 1));
  return b.subarray(data + start, data + b.readUInt32BE(ends + 4 * before));
}

/** Calls `visit(k, checkpoint)` for each shard k of a block, in order. */
export function forEachBlockRecord(block: Uint8Array, visit: (k: number, checkpoint: Uint8Array) => void): void {
  const b = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  forEachBlockSpan(b, (k, from, to) => visit(k, b.subarray(from, to)));
}

/**
 * Copies the leaf of each done checkpoint of a block into `leaves`, shard
 * first+k at leaf slot `at + k`: a resume loads half a million of them, so
 * no view is made per checkpoint.
 */
export function copyBlockLeaves(block: Uint8Array, leaves: Uint8Array, at: number): void {
  const b = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  forEachBlockSpan(b, (k, from) => {
    if (b[from] === Phase.Done) b.copy(leaves, (at + k) * 32, from + HEADER + 32, from + DONE_TAIL);
  });
}

/** Calls `visit(k, from, to)` for each shard k of a block, in order: where its checkpoint lies in the block. */
function forEachBlockSpan(b: Buffer, visit: (k: number, from: number, to: number) => void): void {
  const ends = 4 * WORDS;
  let count = 0;
  for (let w = 0; w < WORDS; w++) count += popcount(b.readUInt32BE(4 * w));
  const data = ends + 4 * count;
  let p = 0;
  let start = 0;
  for (let w = 0; w < WORDS; w++) {
    const bits = b.readUInt32BE(4 * w);
    for (let bit = 0; bit < 32; bit++) {
      if (((bits >>> bit) & 1) === 0) continue;
      const end = b.readUInt32BE(ends + 4 * p++);
      visit(32 * w + bit, data + start, data + end);
      start = end;
    }
  }
}

/** A block of these checkpoints (slot k: shard first+k, or undefined). */
export function encodeBlock(slots: readonly (Uint8Array | undefined)[]): Buffer {
  let count = 0;
  let bytes = 0;
  for (let k = 0; k < BLOCK_SHARDS; k++) {
    const r = slots[k];
    if (!r) continue;
    count++;
    bytes += r.length;
  }
  const ends = 4 * WORDS;
  const b = Buffer.allocUnsafe(ends + 4 * count + bytes);
  b.fill(0, 0, ends);
  let p = 0;
  let at = ends + 4 * count;
  const data = at;
  for (let k = 0; k < BLOCK_SHARDS; k++) {
    const r = slots[k];
    if (!r) continue;
    b.writeUInt32BE((b.readUInt32BE(4 * (k >>> 5)) | (1 << (k & 31))) >>> 0, 4 * (k >>> 5));
    b.set(r, at);
    at += r.length;
    b.writeUInt32BE(at - data, ends + 4 * p++);
  }
  return b;
}

/** The checkpoint of one shard, or undefined while it is pending. */
export function readCheckpoint(db: CheckpointDb, planId: string, stage: number, shard: number): Uint8Array | undefined {
  const block = db.getBinary(blockKey(planId, stage, shard));
  return block ? blockRecord(block, shard % BLOCK_SHARDS) : undefined;
}

/**
 * Inside a write: sets the checkpoints of these shards of one key stage,
 * keeping the others their blocks hold; `undefined` removes a shard's
 * checkpoint (it is pending again). Indexes in ascending order touch each
 * block once; any order is correct (a block is read back as written).
 */
export function writeCheckpoints(db: CheckpointDb, keys: BlockKeys, shards: ArrayLike<number>, checkpoints: ArrayLike<Uint8Array | undefined>): void {
  const slots: (Uint8Array | undefined)[] = new Array(BLOCK_SHARDS);
  const summary = summariesOf(db);
  const cleared: [number, number] = [0, 0];
  for (let n = 0; n < shards.length; ) {
    const first = (shards[n] as number) - ((shards[n] as number) % BLOCK_SHARDS);
    const key = keys.at(first);
    slots.fill(undefined);
    cleared[0] = cleared[1] = 0;
    const existing = db.getBinary(key);
    if (existing) forEachBlockRecord(existing, (k, r) => (slots[k] = r));
    for (; n < shards.length && (shards[n] as number) >= first && (shards[n] as number) < first + BLOCK_SHARDS; n++) {
      const k = (shards[n] as number) - first;
      slots[k] = checkpoints[n];
      if (!checkpoints[n]) cleared[k >>> 5] = ((cleared[k >>> 5] as number) | (1 << (k & 31))) >>> 0;
    }
    if (slots.some((s) => s !== undefined)) void db.put(key, encodeBlock(slots));
    else if (existing) void db.remove(key);
    summarizeBlock(summary, key, slots, cleared);
  }
}

/** Calls `visit(shard, checkpoint)` for every checkpoint of one key stage, in shard order. */
export function forEachStageCheckpoint(db: CheckpointDb, planId: string, stage: number, visit: (shard: number, checkpoint: Uint8Array) => void): void {
  for (const { key, value } of db.getRange(stageKeyRange(planId, stage))) {
    const { first } = parseBlockKey(key);
    forEachBlockRecord(value, (k, r) => visit(first + k, r));
  }
}
