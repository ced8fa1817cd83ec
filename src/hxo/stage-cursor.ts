/**
 * One stage's shards as the scheduler sees them: pulled lazily from the
 * partitioner's generator, skipping shards that already ended (a resumed
 * plan), with failed attempts waiting out their backoff in a retry queue.
 */
import type { ResolvedStage } from './plan.ts';
import type { Partitioner } from './partitioners.ts';

export interface PendingShard {
  /** Index within the stage. */
  i: number;
  input: unknown;
  /** Which attempt this will be (from 1). */
  a: number;
}

interface Waiting extends PendingShard {
  readyAt: number;
}

export class StageCursor {
  private readonly source: Iterator<unknown>;
  private nextIndex = 0;
  private exhausted = false;
  private retries: Waiting[] = [];
  inFlight = 0;
  /** Shards that have not ended for good yet (the plan calls `shardEnded()` as they do). */
  private remaining: number;
  /** Set when the partitioner yields more or fewer shards than its count said. */
  broken: string | undefined;

  constructor(
    readonly stage: ResolvedStage,
    partitioner: Partitioner<Record<string, unknown>>,
    /** 1 for each shard that already ended for good (from checkpoints). */
    private readonly ended: Uint8Array,
  ) {
    this.source = partitioner.shards(stage.config)[Symbol.iterator]();
    let already = 0;
    for (let i = 0; i < ended.length; i++) already += ended[i] as number;
    this.remaining = stage.shardCount - already;
  }

  /** One shard of this stage ended for good (done, or failed on its last attempt). */
  shardEnded(): void {
    this.remaining--;
  }

  /** Up to `max` shards ready now: due retries first, then new ones. */
  take(max: number, now: number): PendingShard[] {
    const out: PendingShard[] = [];
    while (out.length < max && this.retries.length > 0 && (this.retries[0] as Waiting).readyAt <= now) {
      const { i, input, a } = this.retries.shift() as Waiting;
      out.push({ i, input, a });
    }
    while (out.length < max && !this.exhausted) {
      const next = this.source.next();
      if (next.done || this.nextIndex >= this.stage.shardCount) {
        this.exhausted = true;
        this.checkCount(next.done === true);
        break;
      }
      const i = this.nextIndex++;
      if (!this.ended[i]) out.push({ i, input: next.value, a: 1 });
    }
    return out;
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

  /** Schedules another attempt after `delayMs`. */
  retry(shard: PendingShard, delayMs: number, now: number): void {
    const waiting: Waiting = { ...shard, readyAt: now + delayMs };
    const at = this.retries.findIndex((w) => w.readyAt > waiting.readyAt);
    if (at < 0) this.retries.push(waiting);
    else this.retries.splice(at, 0, waiting);
  }

  /** Puts shards back to run again at once (their thread died under them). */
  requeue(shards: PendingShard[], now: number): void {
    for (const s of shards) this.retry(s, 0, now);
  }

  /** When the next retry is due, if one waits. */
  get nextRetryAt(): number | undefined {
    return this.retries[0]?.readyAt;
  }

  /** Every shard ended: nothing left to take, retry or wait for (true at once for an empty or fully resumed stage). */
  get finished(): boolean {
    return this.remaining <= 0 && this.retries.length === 0 && this.inFlight === 0;
  }

  get hasWork(): boolean {
    return !this.exhausted || this.retries.length > 0;
  }
}
