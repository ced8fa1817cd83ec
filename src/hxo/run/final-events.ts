/**
 * A shard's final event — `hxo.shard.done`, or `hxo.shard.failed` with
 * `final: true` — is as durable as the checkpoint it announces. The
 * checkpoint is written by a pool thread, the event later by the plan's
 * thread (batched, rate-limited), so a kill in between would lose the event
 * for good. Instead:
 *
 * - each final event carries its shards' keys (EventBatcher tags), and the
 *   transaction that appends it marks them `logged` in the plan's checkpoint
 *   summaries (`onFinalEventsLogged`);
 * - a launch of the plan emits the events of the shards its summaries say
 *   ended but not logged (`reemitFinalEvents`): exactly those a kill took.
 *
 * So every shard that ended has its final event in the log exactly once
 * (once each time it ends: a shard replayed ends again). Not so the created
 * and claimed events: they say a shard is on its way, and one a kill took is
 * not emitted again — a done event emitted at a resume may follow no claimed
 * event of its shard.
 */
import type { EventBatcher } from '../../kernel/event-batcher.ts';
import { BLOCK_SHARDS, BlockKeys, Phase, decodeCheckpoint, failureOf, forEachBlockRecord, summariesOf, type CheckpointDb } from '../checkpoints/checkpoint-records.ts';
import { Bits, SUMMARY_BYTES, putWord, word } from '../checkpoints/checkpoint-summary.ts';
import { SPLIT_STAGE_BIT } from '../checkpoints/leaf-layout.ts';
import type { ResolvedPlan } from '../plan/plan.ts';
import { doneItems } from './shard-event-items.ts';

const KEY_STAGE = 2 ** 32;
/** Where a checkpoint keeps its cas_id (raw) and a done one its output_digest (checkpoint-records.ts). */
const CAS_AT = 8;
const DIGEST_AT = 24;

/**
 * The EventBatcher hook of a plan's events: inside the transaction that
 * appends a final event, its shards (tags: `shardKey`s) are marked logged.
 */
export function onFinalEventsLogged(checkpoints: CheckpointDb, planId: string): (name: string, tags: ArrayLike<number>) => void {
  const summary = summariesOf(checkpoints);
  const keys = new Map<number, BlockKeys>();
  return (_name, tags) => {
    // A batch's shards are runs of one block after another: their bits are gathered a block at a
    // time, and each block's summary read and put once.
    let block = -1;
    let keyStage = -1;
    const bits = [0, 0];
    const put = (): void => {
      if (block < 0) return;
      let blockKeys = keys.get(keyStage);
      if (!blockKeys) keys.set(keyStage, (blockKeys = new BlockKeys(planId, keyStage)));
      // lmdb-js copies a key as it reads or puts it, and getBinary's value is a copy of its own.
      const key = blockKeys.at(block);
      const value = summary.getBinary(key) ?? new Uint8Array(SUMMARY_BYTES);
      for (let w = 0; w < 2; w++) putWord(value, Bits.Logged + 4 * w, (word(value, Bits.Logged + 4 * w) | (bits[w] as number)) >>> 0);
      void summary.put(key, value);
    };
    for (let n = 0; n < tags.length; n++) {
      const tag = tags[n] as number;
      if (tag < 0) continue;
      const stage = tag < KEY_STAGE ? 0 : Math.floor(tag / KEY_STAGE);
      const shard = tag - stage * KEY_STAGE;
      const k = shard % 64;
      if (stage !== keyStage || shard - k !== block) {
        put();
        keyStage = stage;
        block = shard - k;
        bits[0] = bits[1] = 0;
      }
      bits[k >>> 5] = ((bits[k >>> 5] as number) | (1 << (k & 31))) >>> 0;
    }
    put();
  };
}

/**
 * Emits, through the plan's batcher, the final events of these shards
 * (`shardKey`s, ascending: ended, not logged), read from their checkpoints,
 * tagged so that they are marked logged in turn. Returns how many.
 */
export function reemitFinalEvents(checkpoints: CheckpointDb, planId: string, plan: ResolvedPlan, shards: readonly number[], events: EventBatcher): number {
  let emitted = 0;
  for (let n = 0; n < shards.length; ) {
    const keyStage = Math.floor((shards[n] as number) / KEY_STAGE);
    const stage = plan.stages[keyStage & ~SPLIT_STAGE_BIT] as ResolvedPlan['stages'][number];
    const common = { plan_id: planId, stage_id: stage.id };
    const done: { key: number; checkpoint: Uint8Array }[] = [];
    const failed: (ReturnType<typeof failureOf> & { cas_id: string; attempt: number; final: true })[] = [];
    const failedKeys: number[] = [];
    const blocks = new BlockReader(checkpoints, new BlockKeys(planId, keyStage));
    for (; n < shards.length && Math.floor((shards[n] as number) / KEY_STAGE) === keyStage; n++) {
      const key = shards[n] as number;
      const checkpoint = blocks.checkpoint(key % KEY_STAGE);
      if (!checkpoint) continue;
      if (checkpoint[0] === Phase.Done) {
        done.push({ key, checkpoint });
        continue;
      }
      const cp = decodeCheckpoint(checkpoint);
      failed.push({ cas_id: cp.c, ...failureOf(cp), attempt: cp.a, final: true });
      failedKeys.push(key);
    }
    if (done.length > 0) events.addMany('hxo.shard.done', common, doneColumns(done), done.map((d) => d.key));
    if (failed.length > 0) events.addMany('hxo.shard.failed', common, failed, failedKeys);
    emitted += done.length + failed.length;
  }
  return emitted;
}

/** Checkpoints of one key stage read a block at a time (shards asked for in ascending order read each block once). */
class BlockReader {
  private first = -1;
  private readonly slots: (Uint8Array | undefined)[] = new Array(BLOCK_SHARDS);

  constructor(
    private readonly db: CheckpointDb,
    private readonly keys: BlockKeys,
  ) {}

  checkpoint(shard: number): Uint8Array | undefined {
    const first = shard - (shard % BLOCK_SHARDS);
    if (first !== this.first) {
      this.first = first;
      this.slots.fill(undefined);
      const block = this.db.getBinary(this.keys.at(first));
      if (block) forEachBlockRecord(block, (k, checkpoint) => (this.slots[k] = checkpoint));
    }
    return this.slots[shard - first];
  }
}

/** The packed items of done events, as a batch's would be, from done checkpoints (their raw bytes: checkpoint-records.ts). */
function doneColumns(done: readonly { checkpoint: Uint8Array }[]): ReturnType<typeof doneItems> {
  const cas = new Uint8Array(done.length * 8);
  const digests = new Uint8Array(done.length * 32);
  const reused = new Uint8Array(done.length);
  done.forEach(({ checkpoint }, j) => {
    cas.set(checkpoint.subarray(CAS_AT, CAS_AT + 8), j * 8);
    digests.set(checkpoint.subarray(DIGEST_AT, DIGEST_AT + 32), j * 32);
    reused[j] = (checkpoint[1] as number) & 1;
  });
  return doneItems(cas, digests, reused, 'all');
}
