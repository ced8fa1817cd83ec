/**
 * A plan's leaf map (leaf-states.ts) made from what its checkpoints say:
 * for a plan that is not running (nothing will change), and as the starting
 * point of a live one whose map is first asked for midway (its run keeps it
 * up to date from then on). Read from the checkpoint summaries — four
 * bitmaps per 64 shards, ~0.5 MB at a million shards — not from the
 * checkpoints themselves (~170 MB); a plan checkpointed before summaries
 * were kept is read from its checkpoints.
 */
import { stageKeyRange, summariesOf, decodeCheckpoint, Phase, type CheckpointDb } from '../checkpoints/checkpoint-records.ts';
import { Bits, bitmap, hasSummaries } from '../checkpoints/checkpoint-summary.ts';
import { SPLIT_STAGE_BIT, type LeafLayout } from '../checkpoints/leaf-layout.ts';
import { forEachCheckpoint } from '../checkpoints/plan-checkpoints.ts';
import type { ResolvedPlan } from '../plan/plan.ts';
import { SlotState } from './leaf-frame.ts';
import { LeafStates } from './leaf-states.ts';
import { slotCount, slotOffsets } from './slots.ts';

export function leafStatesOf(db: CheckpointDb, planId: string, plan: ResolvedPlan, layout: LeafLayout): LeafStates {
  const offsets = slotOffsets(plan);
  const states = new LeafStates(slotCount(plan));
  // Per split slot: sub-shards ended, and whether one failed.
  const subs = new Map<number, { ended: number; failed: boolean }>();
  const ended = (keyStage: number, index: number, failed: boolean, reused: boolean): void => {
    const stage = keyStage & ~SPLIT_STAGE_BIT;
    if (keyStage === stage) {
      if (!layout.split(stage, index)) states.set((offsets[stage] as number) + index, failed ? SlotState.failed : SlotState.done, reused);
      return;
    }
    const r = layout.splitOfNumber(stage, index);
    if (!r) return;
    const slot = (offsets[stage] as number) + r.shard;
    const sub = subs.get(slot) ?? { ended: 0, failed: false };
    subs.set(slot, { ended: sub.ended + 1, failed: sub.failed || failed });
  };
  if (hasSummaries(summariesOf(db), planId)) readSummaries(db, planId, plan, layout, ended);
  else {
    forEachCheckpoint(db, planId, plan, layout, (stage, shard, number, value) => {
      const cp = decodeCheckpoint(value);
      ended(number === undefined ? stage : stage | SPLIT_STAGE_BIT, number ?? shard, cp.p === Phase.Failed, cp.p === Phase.Done && cp.r === true);
    });
  }
  for (const r of layout.records()) {
    const slot = (offsets[r.stage] as number) + r.shard;
    const sub = subs.get(slot);
    states.set(slot, sub?.failed ? SlotState.failed : sub?.ended === r.parts ? SlotState.done : SlotState.pending);
    states.splitAt(slot);
  }
  return states;
}

function readSummaries(db: CheckpointDb, planId: string, plan: ResolvedPlan, layout: LeafLayout, ended: (keyStage: number, index: number, failed: boolean, reused: boolean) => void): void {
  const summaries = summariesOf(db);
  const keyStages = plan.stages.map((s) => s.index);
  if (layout.hasSplits) keyStages.push(...plan.stages.map((s) => s.index | SPLIT_STAGE_BIT));
  for (const keyStage of keyStages) {
    for (const { key, value } of summaries.getRange(stageKeyRange(planId, keyStage))) {
      const first = key.readUInt32BE(key.length - 4);
      const [e, f, u] = [bitmap(value, Bits.Ended), bitmap(value, Bits.Failed), bitmap(value, Bits.Reused)];
      for (let w = 0; w < 2; w++) {
        const word = (e[w] as number) | 0;
        for (let bit = 0; bit < 32; bit++) {
          if (((word >>> bit) & 1) === 0) continue;
          ended(keyStage, first + 32 * w + bit, (((f[w] as number) >>> bit) & 1) === 1, (((u[w] as number) >>> bit) & 1) === 1);
        }
      }
    }
  }
}
