/**
 * Where a live run's leaves land as its shards end. A shard's leaf has a
 * fixed slot whatever the order of completion, so the root depends only on
 * the shard set: unsplit shards in `base` (stage after stage, by index;
 * earlier runs' leaves load into it as the run goes, resume-state.ts),
 * sub-shards of split shards in their stage's `sub` (by split-space number,
 * grown as splits come). The layout (leaf-layout.ts) lays them out as the plan's.
 */
import type { ResolvedPlan } from '../plan/plan.ts';
import type { LeafLayout } from '../checkpoints/leaf-layout.ts';

export class RunLeaves {
  /** Leaves of unsplit shards: a stage's shard i at slot `offsets[stage] + i`. */
  readonly base: Uint8Array;
  readonly offsets: number[] = [];

  constructor(
    private readonly buffer: SharedArrayBuffer,
    /** Per stage, the leaves of its sub-shards by split-space number. */
    readonly sub: Uint8Array[],
    plan: ResolvedPlan,
  ) {
    this.base = new Uint8Array(buffer);
    let offset = 0;
    for (const s of plan.stages) {
      this.offsets.push(offset);
      offset += s.shardCount;
    }
  }

  /** Room for the leaves of a stage's sub-shards numbered below `numbers`. */
  grow(stage: number, numbers: number): void {
    const now = this.sub[stage];
    if (now && now.length >= numbers * 32) return;
    const grown = new Uint8Array(numbers * 32);
    if (now) grown.set(now);
    this.sub[stage] = grown;
  }

  /** The plan's leaves in `layout` (a copy when shards were split). */
  all(layout: LeafLayout): SharedArrayBuffer {
    return layout.hasSplits ? layout.expand(this.base, this.sub) : this.buffer;
  }
}
