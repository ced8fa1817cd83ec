/**
 * One stage's shards as the scheduler sees them: taken in index order,
 * skipping shards that already ended (a resumed plan), with failed attempts
 * waiting out their backoff in a retry queue.
 *
 * A batch is runs of consecutive shard indexes on the same attempt, plus the
 * inputs — unless the stage's partitioner has random access in the worker
 * (`stage.workerPartitioner`), in which case the cursor never makes an input
 * and a million-shard batch stream is a few numbers per batch. Otherwise
 * inputs are pulled lazily from the partitioner's generator.
 *
 * A stage's sub-shards (shards split by auto-tuning) have a cursor of their
 * own over a list that grows with each split (`StageCursor.forSplits`); its
 * indexes are split-space numbers (leaf-layout.ts), and so are its keys.
 */
import type { ResolvedStage } from '../plan/plan.ts';
import type { Partitioner } from '../partitioners/partitioner.ts';
import { SPLIT_STAGE_BIT, type LeafLayout, type SplitRecord } from '../checkpoints/leaf-layout.ts';

/** Shards of one batch. */
export interface ShardRuns {
  /** Flat triples [first index, count, attempt (from 1)]. */
  runs: number[];
  /** One per shard in run order; absent when the worker makes them. */
  inputs?: unknown[];
  /** Shards in all. */
  size: number;
}

interface Waiting {
  i: number;
  /** The attempt it will be. */
  a: number;
  input: unknown;
  readyAt: number;
}

/** Calls `fn(j, i, a)` for the j-th shard of a batch: its index and attempt. */
export function forEachShard(batch: ShardRuns, fn: (j: number, i: number, a: number) => void): void {
  const { runs } = batch;
  let j = 0;
  for (let r = 0; r < runs.length; r += 3) {
    const first = runs[r] as number;
    const count = runs[r + 1] as number;
    const a = runs[r + 2] as number;
    for (let k = 0; k < count; k++) fn(j++, first + k, a);
  }
}

export class StageCursor {
  private readonly source: Iterator<unknown> | undefined;
  /** Its shards are sub-shards of split shards (numbered in the stage's split space). */
  readonly inSplitSpace: boolean;
  /** The stage number in this cursor's checkpoint keys (split spaces have their own). */
  readonly keyStage: number;
  /** Batches carry no inputs: the worker makes them from indexes. */
  readonly inputsInWorker: boolean;
  private count: number;
  private nextIndex = 0;
  private exhausted = false;
  private retries: Waiting[] = [];
  /** Shards taken out by a split while not ended (few). */
  private readonly withdrawn = new Set<number>();
  inFlight = 0;
  /** Shards that have not ended for good yet (the plan calls `shardEnded()` as they do). */
  private remaining: number;
  /** Set when the partitioner yields more or fewer shards than its count said. */
  broken: string | undefined;

  constructor(
    readonly stage: ResolvedStage,
    private readonly partitioner: Partitioner,
    /** 1 for each shard that already ended for good (from checkpoints) or was split. */
    private ended: Uint8Array,
    /** The inputs, when they are a list (sub-shards) rather than the partitioner's. */
    private readonly list?: unknown[],
  ) {
    this.inSplitSpace = list !== undefined;
    this.keyStage = list ? stage.index | SPLIT_STAGE_BIT : stage.index;
    this.inputsInWorker = !list && stage.workerPartitioner !== undefined;
    this.source = list || this.inputsInWorker ? undefined : partitioner.shards(stage.config, stage.shardCount)[Symbol.iterator]();
    this.count = list ? list.length : stage.shardCount;
    let already = 0;
    for (let i = 0; i < this.count; i++) already += ended[i] as number;
    this.remaining = this.count - already;
  }

  /** The cursor of a stage's sub-shards: `inputs` by split-space number. */
  static forSplits(stage: ResolvedStage, partitioner: Partitioner, inputs: unknown[], ended: Uint8Array): StageCursor {
    return new StageCursor(stage, partitioner, ended, [...inputs]);
  }

  /** More sub-shards (a new split): numbers from the list's end on. */
  extend(inputs: readonly unknown[]): void {
    if (!this.list) throw new Error('only a sub-shard cursor grows');
    this.list.push(...inputs);
    const ended = new Uint8Array(this.list.length);
    ended.set(this.ended.subarray(0, this.count));
    this.ended = ended;
    this.count = this.list.length;
    this.remaining += inputs.length;
    this.exhausted = false;
  }

  /** Shard i ended for good (done, or failed on its last attempt). */
  shardEnded(i: number): void {
    this.ended[i] = 1;
    this.remaining--;
  }

  hasEnded(i: number): boolean {
    return this.ended[i] === 1;
  }

  /**
   * Takes shard i out of this cursor (it was split): it no longer counts,
   * is not taken or retried, and what a batch still running says of it is
   * to be ignored (`isWithdrawn`). False if it had ended already.
   */
  withdraw(i: number): boolean {
    if (this.ended[i] === 1) return false;
    this.ended[i] = 1;
    this.withdrawn.add(i);
    this.remaining--;
    this.retries = this.retries.filter((w) => w.i !== i);
    return true;
  }

  isWithdrawn(i: number): boolean {
    return this.withdrawn.size > 0 && this.withdrawn.has(i);
  }

  /** The input of shard i, whether or not it is in a batch (splittable stages have random access). */
  inputAt(i: number): unknown {
    if (this.list) return this.list[i];
    const at = this.partitioner.at;
    if (!at) throw new Error(`partitioner ${this.stage.partitioner} has no random access`);
    return at(this.stage.config, i);
  }

  /** Up to `max` shards ready now: due retries first, then new ones. */
  take(max: number, now: number): ShardRuns {
    const batch: ShardRuns = { runs: [], size: 0 };
    if (!this.inputsInWorker) batch.inputs = [];
    while (batch.size < max && this.retries.length > 0 && (this.retries[0] as Waiting).readyAt <= now) {
      const { i, a, input } = this.retries.shift() as Waiting;
      this.append(batch, i, a, input);
    }
    while (batch.size < max && !this.exhausted) {
      if (this.nextIndex >= this.count) {
        this.exhausted = true;
        if (this.source) this.checkCount(this.source.next().done === true);
        break;
      }
      let input: unknown;
      if (this.list) {
        input = this.list[this.nextIndex];
      } else if (this.source) {
        const next = this.source.next();
        if (next.done) {
          this.exhausted = true;
          this.checkCount(true);
          break;
        }
        input = next.value;
      }
      const i = this.nextIndex++;
      if (!this.ended[i]) this.append(batch, i, 1, input);
    }
    return batch;
  }

  /** The input of shard j of a batch, index i (only off the hot path: a batch whose thread died). */
  inputOf(batch: ShardRuns, j: number, i: number): unknown {
    return batch.inputs ? batch.inputs[j] : this.inputAt(i);
  }

  private append(batch: ShardRuns, i: number, a: number, input: unknown): void {
    const { runs } = batch;
    const last = runs.length - 3;
    if (last >= 0 && runs[last + 2] === a && (runs[last] as number) + (runs[last + 1] as number) === i) runs[last + 1] = (runs[last + 1] as number) + 1;
    else runs.push(i, 1, a);
    batch.inputs?.push(input);
    batch.size++;
  }

  /**
   * Leaf positions are fixed by `count()` before any shard runs, so a
   * partitioner whose `shards()` disagrees with it cannot be run correctly.
   */
  private checkCount(generatorDone: boolean): void {
    const { partitioner, shardCount } = this.stage;
    if (!generatorDone) this.broken = `partitioner ${partitioner}: shards() yielded more than the ${shardCount} its count() said`;
    else if (this.nextIndex < shardCount) this.broken = `partitioner ${partitioner}: shards() yielded ${this.nextIndex}, its count() said ${shardCount}`;
  }

  /** Schedules shard j of `batch` (index i) for attempt `a` after `delayMs`. */
  retry(batch: ShardRuns, j: number, i: number, a: number, delayMs: number, now: number): void {
    const waiting: Waiting = { i, a, input: batch.inputs?.[j], readyAt: now + delayMs };
    const at = this.retries.findIndex((w) => w.readyAt > waiting.readyAt);
    if (at < 0) this.retries.push(waiting);
    else this.retries.splice(at, 0, waiting);
  }

  /** Puts a whole batch back to run again at once, on the same attempts. */
  requeue(batch: ShardRuns, now: number): void {
    forEachShard(batch, (j, i, a) => {
      if (!this.isWithdrawn(i)) this.retry(batch, j, i, a, 0, now);
    });
  }

  /** When the next retry is due, if one waits. */
  get nextRetryAt(): number | undefined {
    return this.retries[0]?.readyAt;
  }

  /** Every shard ended: nothing left to take, retry or wait for (true at once for an empty or fully resumed stage). */
  get finished(): boolean {
    return this.remaining <= 0 && this.retries.length === 0 && this.inFlight === 0;
  }
}

/** A shard of a cursor as the plan names it: its index, and for a sub-shard its place among its split's. */
export function placeOf(layout: LeafLayout, cursor: StageCursor, i: number): { shard: number; sub?: number } {
  if (!cursor.inSplitSpace) return { shard: i };
  const r = layout.splitOfNumber(cursor.stage.index, i) as SplitRecord;
  return { shard: r.shard, sub: i - r.first };
}
