/**
 * The leaf map's slots (leaf-frame.ts): a plan's shards before any split,
 * stage after stage, so that a split never moves another shard's pixel. A
 * slot is one shard; where it sits among the plan's leaves depends on the
 * splits before it (leaf-layout.ts).
 */
import type { LeafLayout } from '../checkpoints/leaf-layout.ts';
import type { ResolvedPlan } from '../plan/plan.ts';

/** Where each stage's shards start among the slots. */
export function slotOffsets(plan: ResolvedPlan): number[] {
  let at = 0;
  return plan.stages.map((s) => ((at += s.shardCount), at - s.shardCount));
}

export function slotCount(plan: ResolvedPlan): number {
  return plan.stages.reduce((n, s) => n + s.shardCount, 0);
}

/** A slot's shard: its stage, its index there, its first leaf and its leaves (its sub-shards when split, else one). */
export interface SlotPlace {
  slots: number;
  stage_id: string;
  shard_index: number;
  leaf_index: number;
  leaves: number;
}

/** Where slot `slot` is; undefined when the plan has no such slot. */
export function slotPlace(plan: ResolvedPlan, layout: LeafLayout, slot: number): SlotPlace | undefined {
  const offsets = slotOffsets(plan);
  const slots = slotCount(plan);
  if (!Number.isInteger(slot) || slot < 0 || slot >= slots) return undefined;
  let stage = offsets.length - 1;
  while ((offsets[stage] as number) > slot) stage--;
  const shard = slot - (offsets[stage] as number);
  return { slots, stage_id: (plan.stages[stage] as ResolvedPlan['stages'][number]).id, shard_index: shard, leaf_index: layout.leafOf(stage, shard), leaves: layout.split(stage, shard)?.parts ?? 1 };
}
