/**
 * A plan's checkpoints seen through its leaf layout: which checkpoint holds
 * a leaf, and every checkpoint that belongs to the layout (a split shard's
 * own checkpoint, written by a batch that finished just as it was split, does
 * not: its sub-shards' do).
 */
import { checkpointKey, parseCheckpointKey, stageKeyRange, type CheckpointDb } from './checkpoint-records.ts';
import { SPLIT_STAGE_BIT, type LeafLayout, type LeafRef } from './leaf-layout.ts';
import type { ResolvedPlan } from './plan.ts';

/** The checkpoint key of a leaf's shard (or sub-shard). */
export function leafCheckpointKey(planId: string, layout: LeafLayout, leaf: number): Buffer {
  return refCheckpointKey(planId, layout.locate(leaf));
}

export function refCheckpointKey(planId: string, ref: LeafRef): Buffer {
  return ref.sub ? checkpointKey(planId, ref.stage | SPLIT_STAGE_BIT, ref.sub.number) : checkpointKey(planId, ref.stage, ref.shard);
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
    for (const { key, value } of db.getRange(stageKeyRange(planId, stage.index))) {
      const { shard } = parseCheckpointKey(key);
      if (shard < stage.shardCount && !layout.split(stage.index, shard)) visit(stage.index, shard, undefined, value);
    }
  }
  for (const stage of plan.stages) {
    if (!layout.hasSplits) break;
    for (const { key, value } of db.getRange(stageKeyRange(planId, stage.index | SPLIT_STAGE_BIT))) {
      const number = parseCheckpointKey(key).shard;
      const split = layout.splitOfNumber(stage.index, number);
      if (split) visit(stage.index, split.shard, number, value);
    }
  }
}
