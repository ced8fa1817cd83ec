/**
 * The durable, append-only event log: one LMDB database keyed by `seq`.
 *
 * Appends come in batches, one transaction each, and are durable when
 * `append` resolves. Reads are synchronous range scans in `seq` order.
 *
 * Retention (event-retention.ts) trims the oldest events through
 * `trimThrough`, which leaves a *floor*: every seq at or below it is gone,
 * and `oldestSeq` (floor + 1) is the oldest the log may still hold. Why the
 * floor is kept apart from the keys:
 * - a seq must never be handed out twice, so `lastSeq` is at least the floor
 *   even when trimming removed every event (the floor is stored in `meta`,
 *   in the same transaction as each deletion);
 * - a reader told "nothing after seq S" must be able to tell a gap from a
 *   quiet period: `since` below the floor is `EventsTruncatedError`, never a
 *   silently shorter answer.
 * The floor is raised in memory before the deleting transaction is even
 * queued, so a reader that checks it *after* reading a page can never have
 * taken a gap for the whole log (Subscription relies on this).
 */
import type { Database } from 'lmdb';
import type { XynEvent } from '../core/event.ts';
import { decode, encode } from '../core/codec.ts';
import type { Store, ValueEncoder } from './env.ts';
import { EventsTruncatedError } from './errors.ts';
import { eventNameOf } from './event-name.ts';

/**
 * Events are stored as xyn's own msgpack (codec.ts), not lmdb-js's: it knows
 * the packed items of batched events (core/hex-items.ts) and reads them
 * back as plain arrays.
 */
const eventCodec: ValueEncoder = {
  encode,
  decode: (bytes, end) => decode(bytes.subarray(0, end)),
  needsStableBuffer: true,
};

/**
 * Writes that belong with an event, by the event's `data` object: each runs
 * inside the transaction that appends the event (again on each try of it),
 * so what it writes is durable exactly when the event is. A WeakMap, not a
 * field of the event: nothing of it is stored with the event or seen by a
 * reader, and an event given up takes its entry with it.
 */
const withEvent = new WeakMap<object, () => void>();

/**
 * `write` runs in the transaction that appends the event whose `data` this
 * is (a record of having logged it, say: plan summaries mark shard events so).
 */
export function writeWithEvent(data: object, write: () => void): void {
  withEvent.set(data, write);
}

/** Keys taken per step of a read with a name test. */
const KEYS_PER_READ = 1024;

/** Key in the `meta` database of the highest seq removed by retention. */
const FLOOR_KEY = 'events:trimmed_through';
/** Most events one trimming transaction removes: a few ms of writing, so appends queued behind it wait little. */
export const TRIM_CHUNK = 1000;

export interface LogRange {
  /** Keeps an event when true; all events when absent. */
  match?: (event: XynEvent) => boolean;
  /**
   * A first test on the event's name alone, before it is decoded: an event
   * it rejects is skipped undecoded (event-name.ts). `match` still decides
   * for the rest.
   */
  names?: (eventName: string) => boolean;
  /** Only events with `seq` greater than this. */
  since?: number;
  /** Only events with `seq` at most this. */
  until?: number;
  /** At most this many events (default 1000). */
  limit?: number;
}

/** How much room the log's B-tree takes (pages × page size) and how many events it holds. */
export interface LogFootprint {
  bytes: number;
  events: number;
}

export class EventLog {
  private readonly events: Database<XynEvent, number>;
  private readonly meta: Database<number, string>;
  private last: number;
  /** Seqs at or below this are trimmed: no reader sees them. */
  private floor: number;
  /** Seqs at or below this are deleted and the deletion is durable (at most `floor`; less only after a failed trim). */
  private removed: number;
  /** Trims run one after another, never interleaved. */
  private trimming: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: Store) {
    this.events = store.db<number, XynEvent>('events', { encoder: eventCodec });
    this.meta = store.db<string, number>('meta');
    this.floor = this.removed = this.storedFloor();
    this.last = Math.max(this.floor, this.lastKey());
  }

  /** The highest `seq` ever appended (0 when the log is empty); trimming never lowers it. */
  get lastSeq(): number {
    return this.last;
  }

  /** The oldest seq the log may still hold: everything below it was trimmed by retention. */
  get oldestSeq(): number {
    return this.floor + 1;
  }

  /** Throws EventsTruncatedError when events after `since` have been trimmed. */
  checkSince(since: number): void {
    if (since < this.floor) throw new EventsTruncatedError(since, this.oldestSeq);
  }

  /** Appends events (their `seq` strictly increasing past `lastSeq`) in one durable transaction. */
  async append(batch: readonly XynEvent[]): Promise<void> {
    if (batch.length === 0) return;
    await this.store.write(() => {
      for (const event of batch) {
        void this.events.put(event.seq, event);
        withEvent.get(event.data)?.();
      }
    });
    const tail = batch[batch.length - 1] as XynEvent;
    if (tail.seq > this.last) this.last = tail.seq;
  }

  /** Re-reads the tail and the floor written by another process sharing the data dir. */
  refresh(): number {
    const floor = this.storedFloor();
    if (floor > this.floor) this.floor = floor;
    if (floor > this.removed) this.removed = floor;
    this.last = Math.max(this.last, this.floor, this.lastKey());
    return this.last;
  }

  get(seq: number): XynEvent | undefined {
    return seq <= this.floor ? undefined : this.events.get(seq);
  }

  /** Events matching the query, in `seq` order (never a trimmed one). */
  read(q: LogRange = {}): XynEvent[] {
    const limit = q.limit ?? 1000;
    const out: XynEvent[] = [];
    const bounds = { start: Math.max(q.since ?? 0, this.floor) + 1, ...(q.until !== undefined ? { end: q.until + 1 } : {}) };
    if (q.names) return this.readNamed(bounds, limit, q.names, q.match);
    const range = this.events.getRange(bounds);
    for (const { value } of range) {
      if (out.length >= limit) break;
      if (q.match && !q.match(value)) continue;
      out.push(value);
    }
    return out;
  }

  /**
   * `read` with a name test: each event's bytes are looked at in place, and
   * only those whose name passes are decoded. Keys are taken a chunk at a
   * time and each chunk's iteration ends before any value is read (a point
   * read inside a key iteration upsets lmdb-js's cursor).
   */
  private readNamed(bounds: { start: number; end?: number }, limit: number, names: (eventName: string) => boolean, match: LogRange['match']): XynEvent[] {
    const out: XynEvent[] = [];
    for (let start = bounds.start; ; ) {
      const seqs = [...this.events.getKeys({ ...bounds, start, limit: KEYS_PER_READ })];
      for (const seq of seqs) {
        // lmdb-js's read buffer, valid until the next read and longer than the value (`length` is the value's):
        // decoded from a copy of the value (decoded bytes may be views).
        const raw = this.events.getBinaryFast(seq);
        if (!raw) continue;
        const name = eventNameOf(raw);
        if (name !== undefined && !names(name)) continue;
        const event = eventCodec.decode(Uint8Array.prototype.slice.call(raw, 0, raw.length) as Uint8Array, raw.length) as XynEvent;
        if (match && !match(event)) continue;
        out.push(event);
        if (out.length >= limit) return out;
      }
      if (seqs.length < KEYS_PER_READ) return out;
      start = (seqs[seqs.length - 1] as number) + 1;
    }
  }

  /** The log's size now, from LMDB's own page counts (no scan). */
  footprint(): LogFootprint {
    const s = this.events.getStats() as { pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number; entryCount: number };
    return { bytes: (s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages) * s.pageSize, events: s.entryCount };
  }

  /**
   * Removes every event with seq ≤ `through` (never past `lastSeq`), oldest
   * first, at most `chunk` per transaction so that appends queued behind a
   * trim wait for one small transaction, not the whole trim. Resolves with
   * how many events were removed.
   */
  trimThrough(through: number, chunk = TRIM_CHUNK): Promise<number> {
    const run = this.trimming.then(() => this.trimChunks(through, chunk));
    this.trimming = run.catch(() => undefined);
    return run;
  }

  private async trimChunks(through: number, chunk: number): Promise<number> {
    const target = Math.min(through, this.last);
    let count = 0;
    while (this.removed < target) {
      const keys = [...this.events.getKeys({ start: this.removed + 1, end: target + 1, limit: chunk })];
      const upTo = keys.length < chunk ? target : (keys[keys.length - 1] as number);
      // Before the write is queued: see the header.
      if (upTo > this.floor) this.floor = upTo;
      await this.store.write(() => {
        for (const key of keys) void this.events.remove(key);
        void this.meta.put(FLOOR_KEY, upTo);
      });
      this.removed = upTo;
      count += keys.length;
    }
    return count;
  }

  private storedFloor(): number {
    return this.meta.get(FLOOR_KEY) ?? 0;
  }

  private lastKey(): number {
    for (const key of this.events.getKeys({ reverse: true, limit: 1 })) return key;
    return 0;
  }
}
