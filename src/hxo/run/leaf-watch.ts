/**
 * A live run's leaf map (leaves/leaf-states.ts) kept up to date as its
 * batches go out and come back — only once somebody asked for the map (a
 * plan nobody watches pays one `undefined` check per batch). Per batch it
 * writes each run of shards as a range; only shards that did not end done
 * (failed, retried, reused, split) are written one by one. The shard hot
 * path (~400k shards/s) sees a few typed-array writes per shard at most.
 */
import { SlotState } from '../leaves/leaf-frame.ts';
import type { LeafStates } from '../leaves/leaf-states.ts';
import type { LeafLayout, SplitRecord } from '../checkpoints/leaf-layout.ts';
import { forEachShard, type ShardRuns, type StageCursor } from './stage-cursor.ts';
import { Outcome, type ShardBatchResult } from './shard-batch.ts';

export class LeafWatch {
  constructor(
    readonly states: LeafStates,
    /** Each stage's first slot (leaf-summaries.ts `slotOffsets`). */
    private readonly offsets: readonly number[],
    private readonly layout: LeafLayout,
  ) {}

  /** A batch went out: its shards are running (claimed by a pool thread). */
  claimed(cursor: StageCursor, batch: ShardRuns): void {
    if (cursor.inSplitSpace) {
      forEachShard(batch, (_j, i) => this.subShard(cursor, i, SlotState.running));
      return;
    }
    const offset = this.offsets[cursor.stage.index] as number;
    for (let r = 0; r < batch.runs.length; r += 3) this.states.mark(offset + (batch.runs[r] as number), batch.runs[r + 1] as number, SlotState.running);
  }

  /** A batch came back (after the run took it in): done, failed for good, or pending again (to retry). */
  settled(cursor: StageCursor, batch: ShardRuns, result: ShardBatchResult | undefined): void {
    const counted = result !== undefined && result.unwritten === undefined;
    const endedAs = (j: number, i: number): SlotState => {
      if (!cursor.hasEnded(i)) return SlotState.pending;
      const outcome = counted ? (result.outcome[j] as Outcome) : Outcome.Failed;
      return outcome === Outcome.Done || outcome === Outcome.Reused ? SlotState.done : SlotState.failed;
    };
    if (cursor.inSplitSpace) {
      forEachShard(batch, (j, i) => this.subShard(cursor, i, endedAs(j, i)));
      return;
    }
    const { states } = this;
    const offset = this.offsets[cursor.stage.index] as number;
    for (let r = 0; r < batch.runs.length; r += 3) states.mark(offset + (batch.runs[r] as number), batch.runs[r + 1] as number, SlotState.done);
    forEachShard(batch, (j, i) => {
      const slot = offset + i;
      if (cursor.isWithdrawn(i)) states.set(slot, SlotState.running);
      else if (counted && result.outcome[j] === Outcome.Reused && cursor.hasEnded(i)) states.reused(slot);
      else if (!counted || result.outcome[j] !== Outcome.Done || !cursor.hasEnded(i)) states.set(slot, endedAs(j, i));
    });
  }

  /** Shard `shard` of `stage` was split: its slot stands for its sub-shards from now on. */
  split(stage: number, shard: number): void {
    const slot = (this.offsets[stage] as number) + shard;
    this.states.set(slot, SlotState.running);
    this.states.splitAt(slot);
  }

  /**
   * A sub-shard's state shows on its split shard's slot: the latest one's,
   * except that a sub-shard failed for good marks it failed. Once all its
   * sub-shards ended, the slot is done, or failed.
   */
  private subShard(cursor: StageCursor, i: number, state: SlotState): void {
    const r = this.layout.splitOfNumber(cursor.stage.index, i) as SplitRecord | undefined;
    if (!r || cursor.isWithdrawn(i)) return;
    const slot = (this.offsets[r.stage] as number) + r.shard;
    if (this.states.stateOf(slot) !== SlotState.failed) this.states.set(slot, state);
  }
}
