/**
 * A summary of each checkpoint block, kept beside it in its own database
 * (`checkpoint_summary`, same key as the block): four bitmaps of the block's
 * 64 shards, 8 bytes each (two u32 BE words; bit k of word w is shard
 * first + 32w + k, as in the block's own bitmap):
 *
 *    0 ended   the shard has a checkpoint (done, or failed for good)
 *    8 failed  ... and it says failed
 *   16 reused  ... and it says done with an output reused from the memo
 *   24 logged  its final event (`hxo.shard.done`, or `hxo.shard.failed` with
 *              `final`) is in the event log
 *
 * Why a summary: a resume must know which shards ended, and how many, before
 * it runs its first shard. From the blocks that means reading every
 * checkpoint (~170 MB at a million shards: seconds); from the summaries,
 * ~0.5 MB. And why `logged`: a shard's checkpoint is written by a pool
 * thread, its event later by the plan's thread, so a kill in between loses
 * the event. The bit is set in the same transaction that appends the event
 * (event-log.ts `writeWithEvent`), so ended-but-not-logged names exactly the
 * shards whose event a kill took, and the next launch emits those
 * (resume-state.ts): every final event reaches the log exactly once.
 *
 * Kept in step with the blocks by `writeCheckpoints` (every checkpoint write
 * and removal, in the same transaction), and collected with them
 * (retention.ts). A plan's summaries are complete once its *marker* is set
 * (key: plan id ‖ 0x00, shorter than its block keys); a plan checkpointed by
 * a version without summaries has none, and gets them from its blocks at its
 * next launch.
 */
import type { Database } from 'lmdb';
import type { Store } from '../../store/env.ts';

export const SUMMARY_DB = 'checkpoint_summary';
export type SummaryDb = Database<Uint8Array, Buffer>;

export const enum Bits {
  Ended = 0,
  Failed = 8,
  Reused = 16,
  Logged = 24,
}

export const SUMMARY_BYTES = 32;

/** The summary database of a store (the same options in every thread). */
export function summaryDb(store: Store): SummaryDb {
  return store.db<Buffer, Uint8Array>(SUMMARY_DB, { binary: true, binaryKeys: true });
}

/** Whether shard k (0..63) is set in the bitmap at `at` of a summary. */
export function hasBit(summary: Uint8Array, at: Bits, k: number): boolean {
  return ((word(summary, at + 4 * (k >>> 5)) >>> (k & 31)) & 1) === 1;
}

/** A bitmap of a summary as two words, for scanning: bit k of `[w0, w1][k >>> 5]`. */
export function bitmap(summary: Uint8Array, at: Bits): [number, number] {
  return [word(summary, at), word(summary, at + 4)];
}

/**
 * Inside a write: the summary of a block whose slots (shard first+k at k)
 * are now these checkpoints. `cleared` has bit k set for each shard whose
 * checkpoint this write removed: its event no longer stands for it, so its
 * logged bit goes too; every other logged bit is kept (a failure found on
 * the plan's thread may be logged before its checkpoint is written).
 * `allLogged`: every checkpoint's event is taken as logged (a summary made
 * afresh from blocks checkpointed before summaries were kept).
 */
export function summarizeBlock(db: SummaryDb, key: Buffer, slots: readonly (Uint8Array | undefined)[], cleared: readonly [number, number], allLogged = false): void {
  // Gathered as words, no allocation per shard: pool threads summarize every block of every batch.
  let e0 = 0;
  let e1 = 0;
  let f0 = 0;
  let f1 = 0;
  let r0 = 0;
  let r1 = 0;
  for (let k = 0; k < slots.length; k++) {
    const cp = slots[k];
    if (!cp) continue;
    const bit = 1 << (k & 31);
    // Byte 0: phase (2 failed), byte 1: flags (1 reused): checkpoint-records.ts.
    const fail = cp[0] === 2 ? bit : 0;
    const reuse = !fail && ((cp[1] as number) & 1) === 1 ? bit : 0;
    if (k < 32) {
      e0 |= bit;
      f0 |= fail;
      r0 |= reuse;
    } else {
      e1 |= bit;
      f1 |= fail;
      r1 |= reuse;
    }
  }
  const before = db.getBinary(key);
  let l0 = allLogged ? e0 : 0;
  let l1 = allLogged ? e1 : 0;
  if (!allLogged && before) {
    l0 = word(before, Bits.Logged) & ~cleared[0];
    l1 = word(before, Bits.Logged + 4) & ~cleared[1];
  }
  const out = Buffer.allocUnsafe(SUMMARY_BYTES);
  out.writeInt32BE(e0, Bits.Ended);
  out.writeInt32BE(e1, Bits.Ended + 4);
  out.writeInt32BE(f0, Bits.Failed);
  out.writeInt32BE(f1, Bits.Failed + 4);
  out.writeInt32BE(r0, Bits.Reused);
  out.writeInt32BE(r1, Bits.Reused + 4);
  out.writeInt32BE(l0 | 0, Bits.Logged);
  out.writeInt32BE(l1 | 0, Bits.Logged + 4);
  if ((e0 | e1 | l0 | l1) !== 0) void db.put(key, out);
  else if (before) void db.remove(key);
}

/** A shard's key in event tags: its key stage (split spaces have their own) and index in one number (< 2^48). */
export function shardKey(keyStage: number, shard: number): number {
  return keyStage * 2 ** 32 + shard;
}

/** The key that says a plan's summaries are complete. */
export function markerKey(planId: string): Buffer {
  return Buffer.from(planId + '\u0000', 'utf8');
}

export function hasSummaries(db: SummaryDb, planId: string): boolean {
  return db.getBinary(markerKey(planId)) !== undefined;
}

/** Inside a write: the plan's summaries are complete. */
export function markSummaries(db: SummaryDb, planId: string): void {
  void db.put(markerKey(planId), Buffer.from([1]));
}

/** The u32 BE word at `at`. */
export function word(b: Uint8Array, at: number): number {
  return (((b[at] as number) << 24) | ((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number)) >>> 0;
}

/** Writes `v` as the u32 BE word at `at`. */
export function putWord(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

export function clearBits(b: Uint8Array, at: Bits, mask: readonly [number, number]): void {
  for (let w = 0; w < 2; w++) putWord(b, at + 4 * w, word(b, at + 4 * w) & ~(mask[w] as number));
}

/** Bits set in a 32-bit word. */
export function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
