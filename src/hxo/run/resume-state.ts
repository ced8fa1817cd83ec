/**
 * What a launch of a plan starts from — which shards ended, their counts,
 * the failures — read from its checkpoint summaries (checkpoint-summary.ts),
 * not from its checkpoints: ~0.5 MB instead of ~170 MB at a million shards,
 * so a resumed plan runs its first shard in milliseconds, not seconds. The
 * leaves of the shards that ended before are read from their checkpoints
 * once the run has started, a few blocks per turn of the event loop while it goes on;
 * the run is certified only once they are all in (`Resumed.leavesLoaded`).
 *
 * It also puts right what a kill left behind (final-events.ts): the final
 * events of shards ended but not logged are emitted again, and logged marks
 * of shards without a checkpoint (a failure found on the plan's thread is
 * logged before its checkpoint is written, and a kill can come in between)
 * are cleared, so that the shard's next event is the one that counts.
 *
 * A plan without complete summaries — a new one, or one checkpointed by a
 * version that kept none — is read the old way, from its checkpoints, and
 * its summaries are written from them (its checkpointed shards' events
 * taken as logged: what was lost before cannot be told apart).
 *
 * The writes this makes are issued before the launch's own first write, and
 * LMDB commits one thread's writes in order: they are durable before the
 * run's first shard is.
 */
import type { Logger } from '../../kernel/log.ts';
import type { Store } from '../../store/env.ts';
import type { EventBatcher } from '../../kernel/event-batcher.ts';
import { BLOCK_SHARDS, blockKey, copyBlockLeaves, decodeCheckpoint, doneLeaf, failureOf, forEachBlockRecord, forEachStageCheckpoint, planKeyRange, readCheckpoint, stageKeyRange, summariesOf, type CheckpointDb } from '../checkpoints/checkpoint-records.ts';
import { Bits, bitmap, clearBits, hasSummaries, markSummaries, popcount, shardKey, summarizeBlock, type SummaryDb } from '../checkpoints/checkpoint-summary.ts';
import { SPLIT_STAGE_BIT, type LeafLayout } from '../checkpoints/leaf-layout.ts';
import type { ResolvedPlan } from '../plan/plan.ts';
import type { FailedShard } from '../checkpoints/plan-checkpoints.ts';
import { emptyResumed, scanCheckpoints, type Resumed } from '../checkpoints/plan-checkpoints.ts';
import { reemitFinalEvents } from './final-events.ts';

export interface ResumeContext {
  store: Store;
  checkpoints: CheckpointDb;
  log: Logger;
}

/** Checkpoint blocks read per turn while leaves load: ~1.4 MB, a few ms. */
const LEAF_BLOCKS_PER_TURN = 128;

/** What the plan's earlier runs left, for a new run of it; re-emits the final events a kill took. */
export function resumeState(ctx: ResumeContext, planId: string, plan: ResolvedPlan, layout: LeafLayout, events: EventBatcher): { resumed: Resumed; failedList: FailedShard[] } {
  const summary = summariesOf(ctx.checkpoints);
  if (!hasSummaries(summary, planId)) {
    const scanned = scanCheckpoints(ctx.checkpoints, planId, plan, layout);
    write(ctx, 'checkpoint summaries not written', () => rebuildSummaries(ctx.checkpoints, summary, planId));
    return scanned;
  }
  const read = readSummaries(summary, planId, plan, layout);
  if (read.stale.length > 0) write(ctx, 'stale logged marks not cleared', () => clearStale(summary, read.stale));
  const failedList = read.failed.map((key) => failedShard(ctx.checkpoints, planId, plan, layout, key));
  loadSubLeaves(ctx.checkpoints, planId, layout, read.resumed.subLeaves);
  const base = new Uint8Array(read.resumed.leaves);
  // Once the run has started (its first batches out): before, this work — and the append of the
  // events — would hold back the launch's first write, and with it the first shard.
  const started = new Promise<void>((resolve) => (read.resumed.started = resolve));
  read.resumed.leavesLoaded = read.anyBaseDone ? started.then(() => loadLeaves(ctx.checkpoints, planId, plan, base)) : Promise.resolve();
  if (read.unlogged.length > 0) void started.then(() => reemit(ctx, planId, plan, read.unlogged, events));
  return { resumed: read.resumed, failedList };
}

interface SummaryRead {
  resumed: Resumed;
  /** Shard keys (`shardKey`) of the failed shards, ascending. */
  failed: number[];
  /** ... and of the ended shards whose final event is not in the log. */
  unlogged: number[];
  /** Summaries with logged marks of shards without a checkpoint. */
  stale: { key: Buffer; mask: [number, number] }[];
  anyBaseDone: boolean;
}

function readSummaries(summary: SummaryDb, planId: string, plan: ResolvedPlan, layout: LeafLayout): SummaryRead {
  const resumed = emptyResumed(plan, layout);
  const out: SummaryRead = { resumed, failed: [], unlogged: [], stale: [], anyBaseDone: false };
  const spaces = plan.stages.map((s) => ({ stage: s.index, keyStage: s.index, sub: false }));
  if (layout.hasSplits) spaces.push(...plan.stages.map((s) => ({ stage: s.index, keyStage: s.index | SPLIT_STAGE_BIT, sub: true })));
  for (const { stage, keyStage, sub } of spaces) {
    const counts = resumed.stages[stage] as Resumed['stages'][number];
    const ended = (sub ? resumed.subEnded[stage] : resumed.ended[stage]) as Uint8Array;
    for (const { key, value } of summary.getRange(stageKeyRange(planId, keyStage))) {
      const first = key.readUInt32BE(key.length - 4);
      const words = { ended: bitmap(value, Bits.Ended), failed: bitmap(value, Bits.Failed), reused: bitmap(value, Bits.Reused), logged: bitmap(value, Bits.Logged) };
      const stale = [words.logged[0] & ~words.ended[0], words.logged[1] & ~words.ended[1]];
      if (stale[0] !== 0 || stale[1] !== 0) out.stale.push({ key: Buffer.from(key), mask: [(stale[0] as number) >>> 0, (stale[1] as number) >>> 0] });
      for (let w = 0; w < 2; w++) {
        const base = first + 32 * w;
        // The ended shards of this word that the plan's layout has (a split shard's own checkpoint is not the plan's).
        let kept = (words.ended[w] as number) | 0;
        if (sub || layout.hasSplits || base + 32 > ended.length) {
          forEachBit(kept, (bit) => {
            const i = base + bit;
            const inLayout = sub ? layout.splitOfNumber(stage, i) !== undefined : i < ended.length && !layout.split(stage, i);
            if (!inLayout) kept &= ~(1 << bit);
          });
        }
        const failed = kept & (words.failed[w] as number);
        const done = kept & ~failed;
        counts.failed += popcount(failed);
        counts.done += popcount(done);
        counts.reused += popcount(done & (words.reused[w] as number));
        if (!sub && done !== 0) out.anyBaseDone = true;
        if (kept === -1) ended.fill(1, base, base + 32);
        else forEachBit(kept, (bit) => (ended[base + bit] = 1));
        forEachBit(failed, (bit) => out.failed.push(shardKey(keyStage, base + bit)));
        forEachBit(kept & ~(words.logged[w] as number), (bit) => out.unlogged.push(shardKey(keyStage, base + bit)));
      }
    }
  }
  return out;
}

/** A failed shard as the report lists it, from its checkpoint. */
function failedShard(checkpoints: CheckpointDb, planId: string, plan: ResolvedPlan, layout: LeafLayout, key: number): FailedShard {
  const keyStage = Math.floor(key / 2 ** 32);
  const index = key % 2 ** 32;
  const stage = keyStage & ~SPLIT_STAGE_BIT;
  const split = keyStage !== stage ? layout.splitOfNumber(stage, index) : undefined;
  const stored = readCheckpoint(checkpoints, planId, keyStage, index);
  const cp = stored ? decodeCheckpoint(stored) : undefined;
  return {
    stage_id: (plan.stages[stage] as ResolvedPlan['stages'][number]).id,
    shard_index: split ? split.shard : index,
    ...(split ? { sub_shard: index - split.first } : {}),
    cas_id: cp?.c ?? '',
    ...failureOf(cp),
    attempts: cp?.a ?? 0,
  };
}

/** Sub-shards' leaves, read now: splits are few, and their buffers may grow while the run goes on. */
function loadSubLeaves(checkpoints: CheckpointDb, planId: string, layout: LeafLayout, subLeaves: Uint8Array[]): void {
  if (!layout.hasSplits) return;
  subLeaves.forEach((leaves, stage) => {
    forEachStageCheckpoint(checkpoints, planId, stage | SPLIT_STAGE_BIT, (number, checkpoint) => {
      const leaf = doneLeaf(checkpoint);
      if (leaf && layout.splitOfNumber(stage, number)) leaves.set(leaf, number * 32);
    });
  });
}

/**
 * Copies the leaves of the done checkpoints of every stage into `base`, a
 * few blocks per turn. A shard this run ends meanwhile gets the same leaf
 * from its batch (its checkpoint holds what its batch returned), so the two
 * writers never disagree.
 */
async function loadLeaves(checkpoints: CheckpointDb, planId: string, plan: ResolvedPlan, base: Uint8Array): Promise<void> {
  let offset = 0;
  for (const stage of plan.stages) {
    const { end } = stageKeyRange(planId, stage.index);
    for (let from = 0; from < stage.shardCount; ) {
      let blocks = 0;
      for (const { key, value } of checkpoints.getRange({ start: blockKey(planId, stage.index, from), end, limit: LEAF_BLOCKS_PER_TURN })) {
        const first = key.readUInt32BE(key.length - 4);
        copyBlockLeaves(value, base, offset + first);
        from = first + BLOCK_SHARDS;
        blocks++;
      }
      if (blocks < LEAF_BLOCKS_PER_TURN) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    offset += stage.shardCount;
  }
}

/** Inside a write: summaries of every block of a plan, from its checkpoints, all taken as logged; then its marker. */
function rebuildSummaries(checkpoints: CheckpointDb, summary: SummaryDb, planId: string): void {
  const slots: (Uint8Array | undefined)[] = new Array(BLOCK_SHARDS);
  for (const { key, value } of checkpoints.getRange(planKeyRange(planId))) {
    slots.fill(undefined);
    forEachBlockRecord(value, (k, checkpoint) => (slots[k] = checkpoint));
    summarizeBlock(summary, key, slots, [0, 0], true);
  }
  markSummaries(summary, planId);
}

/** Inside a write: clears the logged marks found stale, of shards that still have no checkpoint. */
function clearStale(summary: SummaryDb, stale: readonly { key: Buffer; mask: [number, number] }[]): void {
  for (const { key, mask } of stale) {
    const before = summary.getBinary(key);
    if (!before) continue;
    const value = Uint8Array.prototype.slice.call(before) as Uint8Array;
    const [e0, e1] = bitmap(value, Bits.Ended);
    clearBits(value, Bits.Logged, [mask[0] & ~e0, mask[1] & ~e1]);
    void summary.put(key, Buffer.from(value));
  }
}

/** Calls `visit` with the index of each bit set in a u32 word, lowest first. */
function forEachBit(word: number, visit: (bit: number) => unknown): void {
  for (let rest = word | 0; rest !== 0; rest &= rest - 1) visit(31 - Math.clz32(rest & -rest));
}

function reemit(ctx: ResumeContext, planId: string, plan: ResolvedPlan, unlogged: readonly number[], events: EventBatcher): void {
  try {
    const emitted = reemitFinalEvents(ctx.checkpoints, planId, plan, unlogged, events);
    ctx.log.info({ plan_id: planId, shards: emitted }, 'final shard events a stop took emitted again');
  } catch (err) {
    // Still unlogged in the summaries: the next launch tries again.
    ctx.log.error({ err, plan_id: planId }, 'final shard events a stop took not emitted again');
  }
}

function write(ctx: ResumeContext, failure: string, fn: () => void): void {
  ctx.store.write(fn).catch((err: unknown) => ctx.log.error({ err }, failure));
}
