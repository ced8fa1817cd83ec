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
 */
import type { XynEvent } from './event.ts';
import type { EventLog } from '../store/event-log.ts';

export type Delivery =
  | { type: 'event'; event: XynEvent }
  | { type: 'lagged'; skipped: number; from_seq: number; to_seq: number };

export type LagPolicy = 'skip' | 'replay';

export interface SubscriptionStats {
  queued: number;
  delivered: number;
  skipped: number;
  lagged_notices: number;
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

  constructor(
    readonly id: number,
    readonly pattern: string,
    readonly matches: (event: XynEvent) => boolean,
    private readonly log: EventLog,
    private readonly queueSize: number,
    private readonly lagPolicy: LagPolicy,
    private readonly detach: (sub: Subscription) => void,
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
    if (fromLog) return this.deliver(fromLog);
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
      catching_up: this.cursor !== null,
    };
  }

  private nextFromLog(): XynEvent | undefined {
    while (this.cursor !== null) {
      if (this.pageHead < this.page.length) return this.page[this.pageHead++];
      const page = this.log.read({ since: this.cursor, until: this.catchUpTo, limit: PAGE, match: this.matches });
      this.page = page;
      this.pageHead = 0;
      const last = page[page.length - 1];
      if (page.length < PAGE || !last) this.cursor = null; // range exhausted: back to live
      else this.cursor = last.seq;
    }
    if (this.pageHead < this.page.length) return this.page[this.pageHead++];
    return undefined;
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
