/**
 * A plan's checkpoints seen through its leaf layout: which checkpoint holds
 * a leaf, every checkpoint that belongs to the layout (a split shard's own
 * checkpoint, written by a batch that finished just as it was split, does
 * not: its sub-shards' do), and what they say a run of the plan has left.
 */
import { Phase, blockKey, decodeCheckpoint, failureOf, forEachBlockRecord, forEachStageCheckpoint, parseBlockKey, planKeyRange, readCheckpoint, stageKeyRange, summariesOf, type CheckpointDb } from './checkpoint-records.ts';
import { Bits, hasSummaries, markerKey, popcount, word } from './checkpoint-summary.ts';
import { SPLIT_STAGE_BIT, type LeafLayout, type LeafRef } from './leaf-layout.ts';
import type { ResolvedPlan } from '../plan/plan.ts';

export interface FailedShard {
  stage_id: string;
  shard_index: number;
  /** Which of the split shard's sub-shards. */
  sub_shard?: number;
  cas_id: string;
  error: string;
  /** The error's class and code (`NonRetryableError`, `INPUT_CHANGED`), where known. */
  error_class?: string;
  error_code?: string;
  attempts: number;
}

/** What a previous run of the plan left: ended marks, leaves, counts (resume-state.ts reads them from the checkpoints). */
export interface Resumed {
  /** Per stage: 1 where the shard already ended, or was split. */
  ended: Uint8Array[];
  /** Per stage: 1 where a sub-shard (by split-space number) already ended. */
  subEnded: Uint8Array[];
  /** Leaves of unsplit shards, stage after stage. */
  leaves: SharedArrayBuffer;
  /** Leaves of sub-shards, per stage by split-space number. */
  subLeaves: Uint8Array[];
  stages: { done: number; failed: number; reused: number }[];
  /** Resolves once `leaves` holds the leaves of every shard that ended before (they may load while the run goes on). */
  leavesLoaded?: Promise<void>;
  /** Called as the run starts: work on what earlier runs left that waits until the first batches are out. */
  started?: () => void;
}

/** Where a leaf's shard (or sub-shard) keeps its checkpoint: its key stage and index there. */
export function refCheckpointPlace(ref: LeafRef): { keyStage: number; index: number } {
  return ref.sub ? { keyStage: ref.stage | SPLIT_STAGE_BIT, index: ref.sub.number } : { keyStage: ref.stage, index: ref.shard };
}

/** The checkpoint of a leaf's shard, or undefined while it is pending. */
export function leafCheckpoint(db: CheckpointDb, planId: string, layout: LeafLayout, leaf: number): Uint8Array | undefined {
  return refCheckpoint(db, planId, layout.locate(leaf));
}

export function refCheckpoint(db: CheckpointDb, planId: string, ref: LeafRef): Uint8Array | undefined {
  const { keyStage, index } = refCheckpointPlace(ref);
  return readCheckpoint(db, planId, keyStage, index);
}

/**
 * Calls `visit` for every checkpoint of the plan in its layout, stage by
 * stage: unsplit shards with `number` undefined, sub-shards with their
 * split-space number.
 */
export function forEachCheckpoint(
  db: CheckpointDb,
  planId: string,
  plan: ResolvedPlan,
  layout: LeafLayout,
  visit: (stage: number, shard: number, number: number | undefined, value: Uint8Array) => void,
): void {
  for (const stage of plan.stages) {
    forEachStageCheckpoint(db, planId, stage.index, (shard, value) => {
      if (shard < stage.shardCount && !layout.split(stage.index, shard)) visit(stage.index, shard, undefined, value);
    });
  }
  for (const stage of plan.stages) {
    if (!layout.hasSplits) break;
    forEachStageCheckpoint(db, planId, stage.index | SPLIT_STAGE_BIT, (number, value) => {
      const split = layout.splitOfNumber(stage.index, number);
      if (split) visit(stage.index, split.shard, number, value);
    });
  }
}

/**
 * The checkpoints of one key stage from shard `from` on, in shard order, read
 * a block at a time: a walk its caller stops when it has enough (a page of
 * outputs), where forEachStageCheckpoint walks the whole stage. A
 * checkpoint is valid until the walk moves on.
 */
export function* stageCheckpointsFrom(db: CheckpointDb, planId: string, keyStage: number, from: number): Generator<{ shard: number; checkpoint: Uint8Array }> {
  for (const { key, value } of db.getRange({ start: blockKey(planId, keyStage, from), end: stageKeyRange(planId, keyStage).end })) {
    const { first } = parseBlockKey(key);
    const records: { shard: number; checkpoint: Uint8Array }[] = [];
    forEachBlockRecord(value, (k, checkpoint) => {
      if (first + k >= from) records.push({ shard: first + k, checkpoint });
    });
    yield* records;
  }
}

/**
 * How many of a plan's checkpoints (any layout: every key stage) say done,
 * failed, and done with a reused output: from its summaries when they are
 * complete (checkpoint-summary.ts; ~0.5 MB at a million shards), else one
 * pass over its blocks.
 */
export function countCheckpoints(db: CheckpointDb, planId: string): { done: number; failed: number; reused: number } {
  const counts = { done: 0, failed: 0, reused: 0 };
  const summaries = summariesOf(db);
  if (hasSummaries(summaries, planId)) {
    for (const { key, value } of summaries.getRange(planKeyRange(planId))) {
      if (key.length === markerKey(planId).length) continue;
      for (const w of [0, 4]) {
        const ended = word(value, Bits.Ended + w);
        const failed = ended & word(value, Bits.Failed + w);
        counts.failed += popcount(failed);
        counts.done += popcount(ended & ~failed);
        counts.reused += popcount(ended & ~failed & word(value, Bits.Reused + w));
      }
    }
    return counts;
  }
  for (const { value } of db.getRange(planKeyRange(planId))) {
    forEachBlockRecord(value, (_k, checkpoint) => {
      // Bytes 0 and 1: phase and flags (checkpoint-records.ts).
      if (checkpoint[0] !== Phase.Done) counts.failed++;
      else {
        counts.done++;
        if (((checkpoint[1] as number) & 1) === 1) counts.reused++;
      }
    });
  }
  return counts;
}

/** A plan's resume state with nothing ended yet but its split shards (replaced by their sub-shards, they never run themselves). */
export function emptyResumed(plan: ResolvedPlan, layout: LeafLayout): Resumed {
  const resumed: Resumed = {
    ended: plan.stages.map((s) => new Uint8Array(s.shardCount)),
    subEnded: plan.stages.map((s) => new Uint8Array(layout.nextSubNumber(s.index))),
    leaves: new SharedArrayBuffer(plan.totalShards * 32),
    subLeaves: plan.stages.map((s) => new Uint8Array(layout.nextSubNumber(s.index) * 32)),
    stages: plan.stages.map(() => ({ done: 0, failed: 0, reused: 0 })),
  };
  for (const r of layout.records()) (resumed.ended[r.stage] as Uint8Array)[r.shard] = 1;
  return resumed;
}

/** What a previous run of a plan already finished, from its checkpoints: ended marks, counts, leaves, failures. */
export function scanCheckpoints(db: CheckpointDb, planId: string, plan: ResolvedPlan, layout: LeafLayout): { resumed: Resumed; failedList: FailedShard[] } {
  const resumed = emptyResumed(plan, layout);
  const failedList: FailedShard[] = [];
  const base = new Uint8Array(resumed.leaves);
  // Where each stage's unsplit shards begin in `base`.
  const offsets = plan.stages.map((s) => plan.stages.slice(0, s.index).reduce((n, t) => n + t.shardCount, 0));
  forEachCheckpoint(db, planId, plan, layout, (stage, shard, number, bytes) => {
    const isSub = number !== undefined;
    (isSub ? (resumed.subEnded[stage] as Uint8Array) : (resumed.ended[stage] as Uint8Array))[isSub ? number : shard] = 1;
    const value = decodeCheckpoint(bytes);
    const counts = resumed.stages[stage] as Resumed['stages'][number];
    if (value.p === Phase.Done && value.l) {
      counts.done++;
      if (value.r) counts.reused++;
      if (isSub) (resumed.subLeaves[stage] as Uint8Array).set(value.l, number * 32);
      else base.set(value.l, ((offsets[stage] as number) + shard) * 32);
    } else {
      counts.failed++;
      const split = isSub ? layout.splitOfNumber(stage, number) : undefined;
      failedList.push({
        stage_id: (plan.stages[stage] as ResolvedPlan['stages'][number]).id,
        shard_index: shard,
        ...(split && isSub ? { sub_shard: number - split.first } : {}),
        cas_id: value.c,
        ...failureOf(value),
        attempts: value.a,
      });
    }
  });
  return { resumed, failedList };
}
