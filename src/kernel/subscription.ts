/**
 * One subscriber's view of the bus: a bounded queue backed by the durable log.
 *
 * Invariants:
 * - Events come out in `seq` order, never twice.
 * - The queue never holds more than `queueSize` events: the publisher is
 *   never slowed by a subscriber.
 * - While *catching up* the subscription reads the range (cursor, catchUpTo]
 *   from the log page by page, and only events past `catchUpTo` are queued.
 *   A `since` subscription starts this way; so does a `lag: 'replay'` one that
 *   overflows: its queued events are dropped and re-read from the log instead,
 *   so it loses nothing and memory stays bounded.
 * - A `lag: 'skip'` subscription that overflows drops its oldest events and is
 *   told so once with `{type: 'lagged', skipped, from_seq, to_seq}`; the range
 *   is still in the log for whoever wants it (`queryHistory`).
 * - Retention may trim the log under a catching-up subscription. Never a
 *   silent gap: after each page read it checks the log's floor (raised before
 *   any deletion, event-log.ts) and, if the floor passed its cursor, says
 *   `{type: 'truncated', oldest_seq, from_seq, to_seq}` (seqs from_seq..to_seq
 *   are gone) and goes on from the oldest kept. Events already queued in
 *   memory are never lost to trimming.
 * - A `pinned` subscription (an internal reader that must lose nothing, like
 *   the audit trail) holds retention back: `holdSeq()` is the seq after which
 *   it still needs the log, and the bus's retention trims no further.
 */
import type { XynEvent } from '../core/event.ts';
import type { EventLog } from '../store/event-log.ts';

export type Delivery =
  | { type: 'event'; event: XynEvent }
  | { type: 'lagged'; skipped: number; from_seq: number; to_seq: number }
  | { type: 'truncated'; oldest_seq: number; from_seq: number; to_seq: number };

export type LagPolicy = 'skip' | 'replay';

export interface SubscriptionStats {
  queued: number;
  delivered: number;
  skipped: number;
  lagged_notices: number;
  truncated_notices: number;
  catching_up: boolean;
}

const PAGE = 256;

export class Subscription implements AsyncIterable<Delivery> {
  private queue: XynEvent[] = [];
  private head = 0;
  private page: XynEvent[] = [];
  private pageHead = 0;
  /** Last seq read from the log while catching up; null when live. */
  private cursor: number | null = null;
  private catchUpTo = 0;
  private lag: { skipped: number; from: number; to: number } | null = null;
  private waiter: ((value: void) => void) | null = null;
  private closed = false;
  private delivered = 0;
  private skippedTotal = 0;
  private lagNotices = 0;
  private truncatedNotices = 0;

  constructor(
    readonly id: number,
    readonly pattern: string,
    readonly matches: (event: XynEvent) => boolean,
    private readonly log: EventLog,
    private readonly queueSize: number,
    private readonly lagPolicy: LagPolicy,
    readonly pinned: boolean,
    private readonly detach: (sub: Subscription) => void,
    /** The topic test of `matches` alone: catching up, events whose names fail it are not decoded. */
    private readonly names?: (eventName: string) => boolean,
  ) {}

  /** Starts by replaying (since, until] from the log before live events. */
  startCatchUp(since: number, until: number): void {
    if (until > since) {
      this.cursor = since;
      this.catchUpTo = until;
    }
  }

  /** Called by the bus, in seq order, for each durable event this subscription matches. */
  offer(event: XynEvent): void {
    if (this.closed) return;
    if (this.queue.length - this.head >= this.queueSize) this.overflow(event);
    else this.queue.push(event);
    this.wake();
  }

  private overflow(event: XynEvent): void {
    if (this.cursor !== null || this.lagPolicy === 'replay') {
      // Everything queued, and this event, is already in the log: re-read it from there.
      const oldest = this.queue[this.head];
      if (this.cursor === null) this.cursor = (oldest ? oldest.seq : event.seq) - 1;
      this.catchUpTo = event.seq;
      this.queue = [];
      this.head = 0;
      return;
    }
    const dropped = this.queue[this.head] as XynEvent;
    this.head++;
    this.queue.push(event);
    this.skippedTotal++;
    if (this.lag) {
      this.lag.skipped++;
      this.lag.to = dropped.seq;
    } else {
      this.lag = { skipped: 1, from: dropped.seq, to: dropped.seq };
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** The next delivery if one is ready now, without waiting. */
  poll(): Delivery | undefined {
    if (this.lag) {
      const { skipped, from, to } = this.lag;
      this.lag = null;
      this.lagNotices++;
      return { type: 'lagged', skipped, from_seq: from, to_seq: to };
    }
    const fromLog = this.nextFromLog();
    if (fromLog) return fromLog;
    if (this.head < this.queue.length) {
      const event = this.queue[this.head] as XynEvent;
      this.queue[this.head] = undefined as unknown as XynEvent;
      this.head++;
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      }
      return this.deliver(event);
    }
    return undefined;
  }

  /** Waits for the next delivery; resolves undefined once unsubscribed. */
  async next(): Promise<Delivery | undefined> {
    for (;;) {
      const ready = this.poll();
      if (ready || this.closed) return ready;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Delivery> {
    for (;;) {
      const delivery = await this.next();
      if (!delivery) return;
      yield delivery;
    }
  }

  unsubscribe(): void {
    if (this.closed) return;
    this.closed = true;
    this.detach(this);
    this.wake();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  stats(): SubscriptionStats {
    return {
      queued: this.queue.length - this.head,
      delivered: this.delivered,
      skipped: this.skippedTotal,
      lagged_notices: this.lagNotices,
      truncated_notices: this.truncatedNotices,
      catching_up: this.cursor !== null,
    };
  }

  /** The seq after which this subscription still needs the log (Infinity: it needs nothing from it). */
  holdSeq(): number {
    if (this.closed) return Infinity;
    if (this.cursor !== null) return this.cursor;
    // Queued events would be re-read from the log if the queue overflowed.
    const oldest = this.queue[this.head];
    return oldest ? oldest.seq - 1 : Infinity;
  }

  private nextFromLog(): Delivery | undefined {
    while (this.cursor !== null) {
      if (this.pageHead < this.page.length) return this.deliver(this.page[this.pageHead++] as XynEvent);
      const page = this.log.read({ since: this.cursor, until: this.catchUpTo, limit: PAGE, match: this.matches, ...(this.names ? { names: this.names } : {}) });
      // Checked after the read: the floor rises before any deletion, so a page
      // missing trimmed events is always caught here.
      const floor = this.log.oldestSeq - 1;
      if (floor > this.cursor) return this.truncated(floor);
      this.page = page;
      this.pageHead = 0;
      const last = page[page.length - 1];
      if (page.length < PAGE || !last) this.cursor = null; // range exhausted: back to live
      else this.cursor = last.seq;
    }
    if (this.pageHead < this.page.length) return this.deliver(this.page[this.pageHead++] as XynEvent);
    return undefined;
  }

  /** The log was trimmed past the cursor: say which seqs are gone and go on from the oldest kept. */
  private truncated(floor: number): Delivery {
    const from = (this.cursor as number) + 1;
    // Events past catchUpTo are in the queue, in memory: those are still delivered.
    const to = Math.min(floor, this.catchUpTo);
    this.page = [];
    this.pageHead = 0;
    this.cursor = to < this.catchUpTo ? to : null;
    this.truncatedNotices++;
    // oldest_seq is where delivery goes on: the log's oldest kept, or the queue's first when trimming overtook even that.
    return { type: 'truncated', oldest_seq: to + 1, from_seq: from, to_seq: to };
  }

  private deliver(event: XynEvent): Delivery {
    this.delivered++;
    return { type: 'event', event };
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.(undefined);
  }
}
