/**
 * Batched, rate-limited publishing for high-volume events (shard events).
 *
 * Items are buffered in the order they are added. A run of consecutive items
 * with the same event name and the same common fields becomes one event
 * `{...common, count, items: [...]}`, so the order between names (created →
 * claimed → done) is kept. At most `maxRate` events a second reach the bus
 * (HXO_EVENT_MAX_RATE); when the bucket is empty, items coalesce into fewer,
 * larger events instead of being dropped or slowing the producer. A partial
 * batch waits at most `maxDelayMs`. Items may carry tags (numbers): the
 * tags of an event's items are handed to `onLogged` inside the transaction
 * that appends it, so a record of what reached the log is exactly as
 * durable as the event (the plan's shard summaries: hxo/run/final-events.ts).
 *
 *   const batcher = new EventBatcher(bus, { batchSize: 100, maxRate: 1000, onError });
 *   batcher.add('hxo.shard.done', { plan_id, stage_id }, { cas_id, output_digest });
 *   await batcher.flush();
 */
import type { Bus } from './bus.ts';
import type { EventMeta } from '../core/event.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { RateLimiter } from './rate-limiter.ts';
import { HexItems } from '../core/hex-items.ts';
import { writeWithEvent } from '../store/event-log.ts';

export interface EventBatcherOptions {
  batchSize: number;
  maxRate: number;
  maxDelayMs?: number;
  clock?: Clock;
  meta?: EventMeta;
  onError: (err: unknown) => void;
  /**
   * Runs inside the transaction that appends an event holding tagged items,
   * with their tags (one per item, in item order; -1: none): what it writes is durable
   * exactly when the event is — a record that these items reached the log.
   */
  onLogged?: (name: string, tags: Float64Array) => void;
}

interface Chunk {
  key: string;
  name: string;
  common: Record<string, unknown>;
  items: unknown[] | HexItems;
  /** One per item when any item has a tag (-1: none); numbers in a typed array: a million-shard plan tags a million items. */
  tags?: Float64Array;
  /** Items of this chunk already emitted. */
  taken: number;
}

export class EventBatcher {
  private chunks: Chunk[] = [];
  private count = 0;
  private readonly limiter: RateLimiter;
  private timer: NodeJS.Timeout | null = null;
  private readonly inflight = new Set<Promise<unknown>>();
  private events = 0;
  private items = 0;

  constructor(
    private readonly bus: Bus,
    private readonly options: EventBatcherOptions,
  ) {
    this.limiter = new RateLimiter(options.maxRate, options.clock ?? systemClock);
  }

  /** What each event published carries besides its data (the correlation id of the plan's submit). */
  get meta(): EventMeta {
    return this.options.meta ?? {};
  }

  /** `tag` (≥ 0): handed to `onLogged` once the item is in the log. */
  add(name: string, common: Record<string, unknown>, item: unknown, tag?: number): void {
    this.addMany(name, common, [item], tag === undefined ? undefined : [tag]);
  }

  /** Adds items in order; cheaper than `add` per item for whole batches. `tags`: one per item, as `add`'s. */
  addMany(name: string, common: Record<string, unknown>, items: unknown[] | HexItems, tags?: ArrayLike<number>): void {
    if (items.length === 0) return;
    const key = name + '\u0000' + JSON.stringify(common);
    const last = this.chunks.at(-1);
    const before = last?.items.length ?? 0;
    const merged = last && last.key === key ? joinItems(last.items, items) : undefined;
    if (merged) {
      const chunk = last as Chunk;
      chunk.items = merged;
      if (tags || chunk.tags) {
        const joined = new Float64Array(before + items.length).fill(-1);
        if (chunk.tags) joined.set(chunk.tags);
        if (tags) joined.set(tags, before);
        chunk.tags = joined;
      }
    } else {
      this.chunks.push({ key, name, common, items: items instanceof HexItems ? items : [...items], ...(tags ? { tags: Float64Array.from(tags) } : {}), taken: 0 });
    }
    this.count += items.length;
    this.items += items.length;
    if (this.count >= this.options.batchSize) this.pump(false);
    else this.timer ??= setTimeout(() => this.onTimer(), this.options.maxDelayMs ?? 100);
  }

  /** Publishes everything buffered (coalesced) and waits until it is durable. */
  async flush(): Promise<void> {
    this.clearTimer();
    while (this.count > 0) this.emit(Infinity);
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  stats(): { buffered: number; events: number; items: number; inflight: number } {
    return { buffered: this.count, events: this.events, items: this.items, inflight: this.inflight.size };
  }

  private onTimer(): void {
    this.timer = null;
    this.pump(true);
  }

  /** Emits full batches (or, when `partial`, everything) as the rate allows. */
  private pump(partial: boolean): void {
    while (this.count >= (partial ? 1 : this.options.batchSize)) {
      if (!this.limiter.tryTake()) break;
      // Spread what is buffered over the tokens left, so a backlog coalesces.
      const cap = Math.max(this.options.batchSize, Math.ceil(this.count / (this.limiter.available() + 1)));
      this.emit(cap);
    }
    if (this.count > 0 && !this.timer) {
      const wait = Math.max(this.limiter.waitMs(), partial ? 1 : (this.options.maxDelayMs ?? 100));
      this.timer = setTimeout(() => this.onTimer(), wait);
    }
  }

  /** Publishes up to `cap` items of the first chunk as one event. */
  private emit(cap: number): void {
    const chunk = this.chunks[0] as Chunk;
    const end = Math.min(chunk.items.length, chunk.taken + cap);
    const items = chunk.taken === 0 && end === chunk.items.length ? chunk.items : chunk.items.slice(chunk.taken, end);
    const tags = chunk.tags?.subarray(chunk.taken, end);
    chunk.taken = end;
    if (chunk.taken === chunk.items.length) this.chunks.shift();
    this.count -= items.length;
    this.events++;
    const data = { ...chunk.common, count: items.length, items };
    const onLogged = this.options.onLogged;
    if (onLogged && tags?.some((t) => t >= 0)) writeWithEvent(data, () => onLogged(chunk.name, tags));
    const published = this.bus.publish(chunk.name, data, this.options.meta);
    const tracked: Promise<unknown> = published.then(
      () => this.inflight.delete(tracked),
      (err: unknown) => {
        this.inflight.delete(tracked);
        this.options.onError(err);
      },
    );
    this.inflight.add(tracked);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Packed items are joined by copying, so a packed chunk grows only this far (an event never needs more). */
const PACKED_CHUNK_MAX = 8192;

/** `a` then `b` as one list, when they can be one (plain with plain, packed with packed of the same shape). */
function joinItems(a: unknown[] | HexItems, b: unknown[] | HexItems): unknown[] | HexItems | undefined {
  if (a instanceof HexItems) return b instanceof HexItems && a.length + b.length <= PACKED_CHUNK_MAX ? a.concat(b) : undefined;
  if (b instanceof HexItems) return undefined;
  a.push(...b);
  return a;
}
