/**
 * Event retention (seed 004 §38.1: "max event backlog retained locally:
 * 7 days (or cap by size)"): a node runs for months and a million-shard plan
 * adds tens of thousands of events, so the log's oldest events are trimmed.
 *
 * Why it works this way:
 * - A pass only decides *how far* to trim; the log deletes in chunks of
 *   TRIM_CHUNK events per transaction (`EventLog.trimThrough`), so no write
 *   is huge and an append waits for at most one small chunk.
 * - Age comes from each event's `occurred_at`, read oldest first, stopping at
 *   the first event young enough: seq order is publish order.
 * - Size is what LMDB says the events database takes (pages × page size).
 *   Over `maxBytes`, a pass trims down to LOW_WATER of it, so a log at its
 *   cap is not trimmed a handful of events at every pass. The count to trim
 *   is fixed at the start of the pass (from the average event size): a pass
 *   always ends, whatever LMDB's page accounting does meanwhile.
 * - `hold` is a seq it must not trim past: the bus's pinned readers (the
 *   audit trail) that have yet to read the log there (`Bus.heldSeq`).
 * - Passes never overlap; `start` runs one at once and then on a timer.
 *
 *   const retention = new EventRetention(log, { maxAgeMs: 7 * DAY_MS, maxBytes: 2 * 1024 ** 3 });
 *   const report = await retention.trim(); // {removed, oldest_seq, bytes, events, held_at}
 */
import { TRIM_CHUNK, type EventLog } from './event-log.ts';

/** What retention reads the time from (the kernel's Clock has this shape): injected, so tests drive age. */
export interface RetentionClock {
  now(): number;
}

export const DAY_MS = 24 * 60 * 60 * 1000;
/** Over the size cap, a pass trims down to this share of it. */
export const LOW_WATER = 0.9;

export interface RetentionPolicy {
  /** Events older than this are trimmed (0: no age limit). */
  maxAgeMs: number;
  /** Above this many bytes the oldest events are trimmed (0: no size cap). */
  maxBytes: number;
}

export interface RetentionOptions extends RetentionPolicy {
  clock?: RetentionClock;
  /** The highest seq a pass may trim through (asked before each chunk). */
  hold?: () => number;
  /** Events per trimming transaction (default TRIM_CHUNK). */
  chunk?: number;
}

export interface TrimReport {
  /** Events removed by this pass. */
  removed: number;
  /** The oldest seq the log may still hold after it. */
  oldest_seq: number;
  /** The log's size after it. */
  bytes: number;
  events: number;
  /** Set when a pinned reader stopped the pass short: the seq it held. */
  held_at: number | null;
}

export interface RetentionStats {
  passes: number;
  removed: number;
  failures: number;
  last_pass_at: string | null;
}

export interface RetentionListeners {
  onPass?: (report: TrimReport) => void;
  onError?: (err: unknown) => void;
}

export class EventRetention {
  private readonly clock: RetentionClock;
  private readonly chunk: number;
  private running: Promise<TrimReport> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly counters: RetentionStats = { passes: 0, removed: 0, failures: 0, last_pass_at: null };

  constructor(
    private readonly log: EventLog,
    private readonly options: RetentionOptions,
  ) {
    this.clock = options.clock ?? { now: () => Date.now() };
    this.chunk = options.chunk ?? TRIM_CHUNK;
  }

  /** Runs one pass (or joins the one running) and resolves with what it did. */
  trim(): Promise<TrimReport> {
    this.running ??= this.pass().finally(() => (this.running = null));
    return this.running;
  }

  /** Runs a pass now, then every `intervalMs`, until `stop`. */
  start(intervalMs: number, listeners: RetentionListeners = {}): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.trim().then(
        (report) => listeners.onPass?.(report),
        (err: unknown) => {
          this.counters.failures++;
          listeners.onError?.(err);
        },
      );
    };
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a running pass to end (it stops after its current chunk). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Whether the log's oldest event is older than `cutoff`. */
  private oldestBefore(cutoff: number): boolean {
    const [oldest] = this.log.read({ limit: 1 });
    return oldest !== undefined && Date.parse(oldest.occurred_at) < cutoff;
  }

  stats(): RetentionStats {
    return { ...this.counters };
  }

  private async pass(): Promise<TrimReport> {
    const { maxAgeMs, maxBytes } = this.options;
    const cutoff = maxAgeMs > 0 ? this.clock.now() - maxAgeMs : -Infinity;
    const size = this.log.footprint();
    let bySize = maxBytes > 0 && size.bytes > maxBytes ? Math.ceil(size.events * (1 - (maxBytes * LOW_WATER) / size.bytes)) : 0;
    let removed = 0;
    let heldAt: number | null = null;
    while (!this.stopped && heldAt === null) {
      const hold = this.options.hold?.() ?? Infinity;
      // With nothing to take by size, the oldest event alone says whether any is old enough: a chunk of
      // events is decoded only when some will go (shard events hold thousands of items each).
      const front = this.log.read({ limit: bySize > 0 || this.oldestBefore(cutoff) ? this.chunk : 0 });
      let through = 0;
      let taken = 0;
      for (const event of front) {
        if (taken >= bySize && !(Date.parse(event.occurred_at) < cutoff)) break;
        if (event.seq > hold) {
          heldAt = hold;
          break;
        }
        through = event.seq;
        taken++;
      }
      if (taken === 0) break;
      removed += await this.log.trimThrough(through, this.chunk);
      bySize -= taken;
      if (taken < front.length) break; // stopped inside this chunk: the rest is kept
    }
    this.counters.passes++;
    this.counters.removed += removed;
    this.counters.last_pass_at = new Date(this.clock.now()).toISOString();
    const after = this.log.footprint();
    return { removed, oldest_seq: this.log.oldestSeq, bytes: after.bytes, events: after.events, held_at: heldAt };
  }
}
