/**
 * A live run's split spaces: shards split while the plan runs (auto-tuning,
 * seed 000 flow 4). A split takes the shard out of its cursor at once — a
 * batch running it is cancelled, and whatever comes back for it is ignored
 * (StageCursor.isWithdrawn) — and its sub-shards, its input cut by the
 * stage's partitioner, take the next numbers of the stage's split space and
 * run from the stage's sub-shard cursor (once the split is journaled: the
 * run sees to that). A resumed run rebuilds those cursors from the splits
 * journaled before.
 */
import type { ResolvedPlan, ResolvedStage } from '../plan/plan.ts';
import type { Partitioner } from '../partitioners/partitioner.ts';
import type { LeafLayout, SplitRecord } from '../checkpoints/leaf-layout.ts';
import { StageCursor } from './stage-cursor.ts';
import type { RunLeaves } from './run-leaves.ts';
import type { StageProgress } from './run-progress.ts';
import type { Flights } from './run-flights.ts';

/** A shard taken out and cut, its sub-shards counted and given leaves and a cursor; or why not. */
export type Cut =
  | {
      ok: true;
      record: SplitRecord;
      /** The input of the shard split. */
      input: unknown;
      /** The stage's first split: its sub-shard cursor, new. */
      added?: StageCursor;
    }
  | { ok: false; reason: string };

export class RunSplits {
  /** Per stage, the cursor of its sub-shards, once it has any. */
  readonly cursors: (StageCursor | undefined)[];

  constructor(
    private readonly plan: ResolvedPlan,
    private readonly layout: LeafLayout,
    private readonly partitioners: readonly Partitioner[],
    /** Per stage, the cursor of its unsplit shards. */
    private readonly base: readonly StageCursor[],
    /** Per stage: 1 where a sub-shard (by split-space number) already ended. */
    subEnded: readonly Uint8Array[],
    private readonly leaves: RunLeaves,
    private readonly stages: readonly StageProgress[],
    private readonly flights: Flights,
  ) {
    this.cursors = plan.stages.map((s, i) => {
      const records = layout.records().filter((r) => r.stage === i);
      if (records.length === 0) return undefined;
      const inputs = new Array<unknown>(layout.nextSubNumber(i));
      for (const r of records) {
        const parts = this.splitInput(s, (base[i] as StageCursor).inputAt(r.shard), r.factor);
        if (parts.length !== r.parts) throw new Error(`stage ${s.id}: the journal says shard ${r.shard} was split into ${r.parts}, its partitioner now gives ${parts.length}`);
        parts.forEach((input, k) => (inputs[r.first + k] = input));
      }
      return StageCursor.forSplits(s, partitioners[i] as Partitioner, inputs, subEnded[i] as Uint8Array);
    });
  }

  /** Splits shard `shard` of stage `stage` (not ended, not split) into at most `factor` sub-shards, or says why not. */
  cut(stage: number, shard: number, factor: number): Cut {
    const s = this.plan.stages[stage];
    if (!s) return { ok: false, reason: `the plan has no stage ${stage}` };
    if (!s.splittable) return { ok: false, reason: `stage ${s.id} cannot be split: its partitioner ${s.partitioner} cannot split an input, or its work is not idempotent` };
    if (!Number.isInteger(shard) || shard < 0 || shard >= s.shardCount) return { ok: false, reason: `stage ${s.id} has no shard ${shard} (0..${s.shardCount - 1})` };
    if (this.layout.split(stage, shard)) return { ok: false, reason: `shard ${shard} of ${s.id} is split already` };
    const cursor = this.base[stage] as StageCursor;
    if (cursor.hasEnded(shard)) return { ok: false, reason: `shard ${shard} of ${s.id} has ended already` };
    const input = cursor.inputAt(shard);
    const inputs = this.splitInput(s, input, factor);
    if (inputs.length < 2) return { ok: false, reason: `shard ${shard} of ${s.id} is too small to split` };
    const record: SplitRecord = { stage, shard, parts: inputs.length, first: this.layout.nextSubNumber(stage), factor };
    cursor.withdraw(shard);
    this.flights.cancel(cursor, shard);
    this.layout.add(record);
    (this.stages[stage] as StageProgress).total += record.parts - 1;
    this.leaves.grow(stage, record.first + record.parts);
    const subs = this.cursors[stage];
    if (subs) {
      subs.extend(inputs);
      return { ok: true, record, input };
    }
    // A stage's first split: its split space starts here.
    const added = StageCursor.forSplits(s, this.partitioners[stage] as Partitioner, inputs, new Uint8Array(inputs.length));
    this.cursors[stage] = added;
    return { ok: true, record, input, added };
  }

  /** A shard's input cut `factor` ways by its stage's partitioner: its sub-shards' inputs. */
  private splitInput(stage: ResolvedStage, input: unknown, factor: number): unknown[] {
    const split = (this.partitioners[stage.index] as Partitioner).split;
    if (!split) throw new Error(`stage ${stage.id}: partitioner ${stage.partitioner} cannot split`);
    return split(stage.config, input, factor);
  }
}
