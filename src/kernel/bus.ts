/**
 * The topic bus: publish/subscribe over the durable event log.
 *
 * Invariants:
 * - Every published event gets the next `seq` at the moment `publish` is
 *   called, is appended to the log in a batched transaction, and only then is
 *   fanned out to subscribers and its `publish` promise resolved. A subscriber
 *   therefore never sees an event that a crash could take back.
 * - Batches are written one at a time, in `seq` order; while one is written the
 *   next accumulates, so batches grow with load. A batch the log refuses
 *   for want of space waits, first in line, until there is room
 *   (`onAppendError`): a full disk delays events, it does not drop them.
 * - Fan-out never waits on a subscriber (see Subscription).
 * - Subscribers get plain items: packed ones (hex-items.ts) are unpacked for
 *   them, once per event, and only when someone subscribes to it.
 * - A `since` subscription registers for live events and takes the already
 *   delivered range from the log in one synchronous step, so the two join with
 *   no gap and no duplicate — unless retention trimmed part of that range, and
 *   then it is told so (`truncated`, see Subscription), never silently.
 * - `heldSeq()` is how far retention may trim without taking an event from a
 *   pinned subscription that has yet to read it (event-retention.ts).
 * - `onAppended` listeners hear of each batch after its subscribers, with
 *   the events as published (items maybe packed): readers that take events
 *   from the log themselves (the WebSocket stream) learn there is more to
 *   read without the bus unpacking anything for them.
 *
 *   const sub = bus.subscribe('hxo.shard.*', { since: 0 });
 *   await bus.publish('hxo.shard.done', { plan_id, cas_id });
 *   for await (const d of sub) if (d.type === 'event') console.log(d.event.seq);
 */
import type { EventLog } from '../store/event-log.ts';
import { makeEvent, matchesFilter, type DataFilter, type EventMeta, type XynEvent } from '../core/event.ts';
import { assertTopic, compilePattern } from './topic.ts';
import { Subscription, type LagPolicy } from './subscription.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { ValidationError } from '../core/errors.ts';
import { readableEvent } from '../core/hex-items.ts';

export interface SubscribeOptions {
  /** Replay events with `seq` greater than this from the log first. */
  since?: number;
  /** Equality filter on `data` fields. */
  filter?: DataFilter;
  /** Bound of the live queue (default 10,000 events). */
  queueSize?: number;
  /**
   * What happens when the queue is full: 'skip' drops the oldest and sends
   * `lagged`; 'replay' re-reads from the log. Default: 'replay' when `since`
   * is given (the caller asked for everything after a point), else 'skip'.
   */
  lag?: LagPolicy;
  /**
   * Holds retention back until this subscription has read what it needs from
   * the log: for internal readers that must lose nothing (the audit trail).
   * A pinned reader that stops reading stops trimming, so clients never pin.
   */
  pin?: boolean;
}

export interface HistoryQuery {
  topic?: string;
  filter?: DataFilter;
  since?: number;
  limit?: number;
}

export interface BusOptions {
  log: EventLog;
  envId?: string;
  clock?: Clock;
  /** Most events written in one transaction (default 4,096). */
  maxBatch?: number;
  /**
   * A batch the log refused: resolves when it should be written again (the
   * disk that was full has room), rejects to give it up (its publishers get
   * the append's error). Without it, every refused batch is given up.
   */
  onAppendError?: (err: unknown) => Promise<void>;
}

interface Pending {
  event: XynEvent;
  resolve: (event: XynEvent) => void;
  reject: (err: unknown) => void;
}

export class Bus {
  private readonly log: EventLog;
  private readonly envId: string;
  private readonly clock: Clock;
  private readonly maxBatch: number;
  private readonly onAppendError: ((err: unknown) => Promise<void>) | undefined;
  private nextSeq: number;
  private delivered: number;
  private pending: Pending[] = [];
  private writing: Promise<void> | null = null;
  private readonly subs = new Set<Subscription>();
  private readonly appendListeners = new Set<(events: readonly XynEvent[]) => void>();
  private subIds = 0;
  private published = 0;
  private failed = 0;

  constructor(options: BusOptions) {
    this.log = options.log;
    this.envId = options.envId ?? 'local';
    this.clock = options.clock ?? systemClock;
    this.maxBatch = options.maxBatch ?? 4096;
    this.onAppendError = options.onAppendError;
    this.nextSeq = this.log.lastSeq + 1;
    this.delivered = this.log.lastSeq;
  }

  /** The highest seq fanned out to subscribers (and durable). */
  get lastSeq(): number {
    return this.delivered;
  }

  /** Publishes an event; resolves with it (seq assigned) once it is durable and fanned out. */
  publish(name: string, data: Record<string, unknown>, meta: EventMeta = {}): Promise<XynEvent> {
    assertTopic(name);
    const event = makeEvent(this.nextSeq++, name, data, meta, this.envId, new Date(this.clock.now()));
    return new Promise<XynEvent>((resolve, reject) => {
      this.pending.push({ event, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  /** Subscribes to one pattern or several (an event matching any of them is delivered once). */
  subscribe(patterns: string | readonly string[], options: SubscribeOptions = {}): Subscription {
    const list = typeof patterns === 'string' ? [patterns] : [...patterns];
    if (list.length === 0) throw new ValidationError('subscribe needs at least one topic pattern', 'topics');
    const matchers = list.map(compilePattern);
    const topicMatches =
      matchers.length === 1 ? (matchers[0] as (t: string) => boolean) : (t: string) => matchers.some((m) => m(t));
    const pattern = list.join(',');
    const filter = options.filter;
    const queueSize = options.queueSize ?? 10_000;
    if (!Number.isInteger(queueSize) || queueSize < 1) {
      throw new ValidationError(`queueSize must be a positive integer, got ${queueSize}`, 'queueSize');
    }
    const matches = (e: XynEvent): boolean => topicMatches(e.event_name) && matchesFilter(e, filter);
    const lag = options.lag ?? (options.since !== undefined ? 'replay' : 'skip');
    const sub = new Subscription(++this.subIds, pattern, matches, this.log, queueSize, lag, options.pin ?? false, (s) => this.subs.delete(s), topicMatches);
    if (options.since !== undefined) {
      if (!Number.isInteger(options.since) || options.since < 0) {
        throw new ValidationError(`since must be a non-negative integer seq, got ${options.since}`, 'since');
      }
      sub.startCatchUp(options.since, this.delivered);
    }
    this.subs.add(sub);
    return sub;
  }

  /**
   * Calls `listener` with each batch once it is durable and fanned out;
   * returns the way to stop. It runs on the publishers' path: it must be
   * quick, and must not throw.
   */
  onAppended(listener: (events: readonly XynEvent[]) => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /** The oldest seq the log may still hold: a `since` below `oldestSeq - 1` is answered `truncated`. */
  get oldestSeq(): number {
    return this.log.oldestSeq;
  }

  /** The highest seq retention may trim through without a pinned subscription missing an event. */
  heldSeq(): number {
    let held = Infinity;
    for (const sub of this.subs) if (sub.pinned) held = Math.min(held, sub.holdSeq());
    return held;
  }

  /** Events from the log matching a topic pattern and data filter, in seq order. */
  queryHistory(q: HistoryQuery = {}): XynEvent[] {
    const topicMatches = q.topic ? compilePattern(q.topic) : undefined;
    const match =
      topicMatches || q.filter
        ? (e: XynEvent) => (!topicMatches || topicMatches(e.event_name)) && matchesFilter(e, q.filter)
        : undefined;
    return this.log.read({ since: q.since ?? 0, limit: q.limit ?? 1000, ...(match ? { match } : {}), ...(topicMatches ? { names: topicMatches } : {}) });
  }

  /** Resolves when every event published so far is durable and fanned out. */
  async flushed(): Promise<void> {
    while (this.writing) await this.writing;
  }

  stats(): { published: number; failed: number; pending: number; subscriptions: number; last_seq: number } {
    return {
      published: this.published,
      failed: this.failed,
      pending: this.pending.length,
      subscriptions: this.subs.size,
      last_seq: this.delivered,
    };
  }

  /** Flushes what is pending and ends every subscription. */
  async close(): Promise<void> {
    await this.flushed();
    for (const sub of [...this.subs]) sub.unsubscribe();
  }

  /** Whether a batch the log refused should be written again (`onAppendError` resolved), or given up (it rejected). */
  private async retryAfter(err: unknown): Promise<boolean> {
    if (!this.onAppendError) return false;
    try {
      await this.onAppendError(err);
      return true;
    } catch {
      return false;
    }
  }

  private async drain(): Promise<void> {
    // Let the rest of this tick publish too, so it lands in the same batch.
    await null;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.slice(0, this.maxBatch);
        try {
          await this.log.append(batch.map((p) => p.event));
        } catch (err) {
          // The batch stays first in line while the owner of the error waits to try it again (seq order holds).
          const retry = await this.retryAfter(err);
          if (retry) continue;
          // Not written, so not delivered: each publisher gets the error.
          this.pending.splice(0, batch.length);
          this.failed += batch.length;
          for (const p of batch) p.reject(err);
          continue;
        }
        this.pending.splice(0, batch.length);
        for (const p of batch) {
          this.delivered = p.event.seq;
          // Packed items are unpacked once, and only if someone is listening.
          let readable: XynEvent | undefined;
          for (const sub of this.subs) if (sub.matches(p.event)) sub.offer((readable ??= readableEvent(p.event)));
          p.event = readable ?? p.event;
        }
        if (this.appendListeners.size > 0) {
          const events = batch.map((p) => p.event);
          for (const listener of this.appendListeners) listener(events);
        }
        this.published += batch.length;
        for (const p of batch) p.resolve(p.event);
      }
    } finally {
      this.writing = null;
    }
  }
}
