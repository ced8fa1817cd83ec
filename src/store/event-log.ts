/**
 * The durable, append-only event log: one LMDB database keyed by `seq`.
 *
 * Appends come in batches, one transaction each, and are durable when
 * `append` resolves. Reads are synchronous range scans in `seq` order.
 */
import type { Database } from 'lmdb';
import type { XynEvent } from '../kernel/event.ts';
import { decode, encode } from '../kernel/codec.ts';
import type { Store, ValueEncoder } from './env.ts';

/**
 * Events are stored as xyn's own msgpack (codec.ts), not lmdb-js's: it knows
 * the packed items of batched events (kernel/hex-items.ts) and reads them
 * back as plain arrays.
 */
const eventCodec: ValueEncoder = {
  encode,
  decode: (bytes, end) => decode(bytes.subarray(0, end)),
  needsStableBuffer: true,
};

export interface LogRange {
  /** Keeps an event when true; all events when absent. */
  match?: (event: XynEvent) => boolean;
  /** Only events with `seq` greater than this. */
  since?: number;
  /** Only events with `seq` at most this. */
  until?: number;
  /** At most this many events (default 1000). */
  limit?: number;
}

export class EventLog {
  private readonly events: Database<XynEvent, number>;
  private last: number;

  constructor(private readonly store: Store) {
    this.events = store.db<number, XynEvent>('events', { encoder: eventCodec });
    let last = 0;
    for (const key of this.events.getKeys({ reverse: true, limit: 1 })) last = key;
    this.last = last;
  }

  /** The highest `seq` ever appended (0 when the log is empty). */
  get lastSeq(): number {
    return this.last;
  }

  /** Appends events (their `seq` strictly increasing past `lastSeq`) in one durable transaction. */
  async append(batch: readonly XynEvent[]): Promise<void> {
    if (batch.length === 0) return;
    await this.store.write(() => {
      for (const event of batch) void this.events.put(event.seq, event);
    });
    const tail = batch[batch.length - 1] as XynEvent;
    if (tail.seq > this.last) this.last = tail.seq;
  }

  /** Re-reads the tail written by another process sharing the data dir. */
  refresh(): number {
    for (const key of this.events.getKeys({ reverse: true, limit: 1 })) this.last = Math.max(this.last, key);
    return this.last;
  }

  get(seq: number): XynEvent | undefined {
    return this.events.get(seq);
  }

  /** Events matching the query, in `seq` order. */
  read(q: LogRange = {}): XynEvent[] {
    const limit = q.limit ?? 1000;
    const out: XynEvent[] = [];
    const range = this.events.getRange({
      start: (q.since ?? 0) + 1,
      ...(q.until !== undefined ? { end: q.until + 1 } : {}),
    });
    for (const { value } of range) {
      if (out.length >= limit) break;
      if (q.match && !q.match(value)) continue;
      out.push(value);
    }
    return out;
  }
}
