/**
 * Each event encoded once for every stream client: the node's one cache of
 * encoded events, by seq, bounded in bytes.
 *
 * Why: stream subscriptions hold no events of their own (stream-cursor.ts),
 * only where they are in the log. What they send is read from here — the
 * event's JSON (or msgpack) bytes, shared by every subscription and every
 * connection that sends it, and handed to uWS, which copies them into the
 * socket. Thirty-two `since: 0` subscriptions of twenty clients replaying the
 * same history cost one encoding of each event, not 640 decoded copies.
 *
 * - A miss reads one page of the log (PAGE events, decoded, encoded, then
 *   dropped): history is read lazily, a page at a time, only when a client's
 *   socket has room for it.
 * - Only the events the reader wants are encoded; the rest of the page is
 *   kept as names (what subscriptions match on), and encoded from the log
 *   if someone wants them later.
 * - The oldest entries go first once the entries' bytes pass `maxBytes`
 *   (first in, first out: readers move forward through the log, so an
 *   entry is wanted soon after it is made or not again; keeping the order
 *   of use would cost every read a map update). Nothing else holds them, so
 *   that is the memory it takes.
 * - Live events are encoded as the bus appends them, from the objects it
 *   has, when a connection at the tail wants them: no log read.
 * - The names of the most recent events (RECENT, fed by the bus as it
 *   appends) are known without reading the log: a live subscription that
 *   falls behind counts what it skipped from them.
 */
import type { XynEvent } from '../core/event.ts';
import { encode } from '../core/codec.ts';
import { readableEvent } from '../core/hex-items.ts';
import type { EventLog } from '../store/event-log.ts';

export const FRAME_CODECS = ['json', 'msgpack'] as const;
export type FrameCodec = (typeof FRAME_CODECS)[number];

/** One event as the stream sends it (also a subscription's step: stream-cursor.ts). */
export interface FrameEntry {
  readonly type: 'event';
  readonly seq: number;
  readonly name: string;
  json?: string;
  msgpack?: Uint8Array;
}

export interface FrameStats {
  entries: number;
  bytes: number;
  max_bytes: number;
  hits: number;
  misses: number;
  /** Log pages read to fill the cache. */
  pages: number;
  /** Events decoded from the log and encoded for a client. */
  encoded: number;
}

/** Events per log read on a miss: about 0.1–1 MiB of a busy plan's events, decoded for a moment. */
const PAGE = 64;
/** What an entry costs besides its bytes (object, key, map slot). */
const ENTRY_OVERHEAD = 96;
/** Names of the most recent events kept by seq; more than a live subscription's window plus a bus batch (stream-cursor.ts). */
const RECENT = 1 << 14;

export class EventFrames {
  private readonly entries = new Map<number, FrameEntry>();
  private bytes = 0;
  private readonly recentSeqs = new Float64Array(RECENT).fill(-1);
  private readonly recentNames: string[] = new Array<string>(RECENT);
  private readonly counts = { hits: 0, misses: 0, pages: 0, encoded: 0 };

  constructor(
    private readonly log: EventLog,
    private readonly maxBytes: number,
  ) {}

  /** Seqs at or below this were trimmed by retention: no frame is read for them. */
  get floor(): number {
    return this.log.oldestSeq - 1;
  }

  /**
   * Called with each batch the bus appends: notes the names, and encodes at
   * once, from the events at hand, those that `wanted` says connections at
   * the tail will send now (no log read for live events).
   */
  appended(events: readonly XynEvent[], wanted: (name: string) => readonly FrameCodec[]): void {
    const asked = new Map<string, readonly FrameCodec[]>();
    for (const e of events) {
      const i = e.seq % RECENT;
      this.recentSeqs[i] = e.seq;
      this.recentNames[i] = e.event_name;
      let codecs = asked.get(e.event_name);
      if (!codecs) asked.set(e.event_name, (codecs = wanted(e.event_name)));
      if (codecs.length === 0) continue;
      const entry = this.entries.get(e.seq) ?? this.add({ type: 'event', seq: e.seq, name: e.event_name });
      const readable = readableEvent(e);
      for (const codec of codecs) this.fill(entry, codec, readable);
    }
    this.evict();
  }

  /** The entry of `seq` if it is cached. */
  cached(seq: number): FrameEntry | undefined {
    const entry = this.entries.get(seq);
    if (entry) this.counts.hits++;
    return entry;
  }

  /**
   * Reads one page of the log from `from` (at most up to `until`) into the
   * cache, encoding for `codec` the events `wanted` says; returns the first
   * event's entry, or undefined when the log holds none in that range.
   */
  load(from: number, until: number, codec: FrameCodec, wanted: (name: string) => boolean): FrameEntry | undefined {
    this.counts.misses++;
    this.counts.pages++;
    const page = this.log.read({ since: from - 1, until, limit: PAGE });
    let first: FrameEntry | undefined;
    for (const event of page) {
      const entry = this.entries.get(event.seq) ?? this.add({ type: 'event', seq: event.seq, name: event.event_name });
      if (wanted(entry.name)) this.fill(entry, codec, event);
      first ??= entry;
    }
    this.evict();
    return first;
  }

  /** The entry's bytes for `codec`, encoded from the log if it has none yet; undefined if retention took the event. */
  bytesOf(entry: FrameEntry, codec: FrameCodec): string | Uint8Array | undefined {
    const have = codec === 'json' ? entry.json : entry.msgpack;
    if (have) return have;
    const event = this.log.get(entry.seq);
    if (!event) return undefined;
    const bytes = this.fill(entry, codec, event);
    this.evict();
    return bytes;
  }

  /** The name of the event at `seq`, or undefined when there is none (a seq never written, or trimmed). */
  nameOf(seq: number): string | undefined {
    const i = seq % RECENT;
    if (this.recentSeqs[i] === seq) return this.recentNames[i];
    return this.entries.get(seq)?.name ?? this.log.get(seq)?.event_name;
  }

  stats(): FrameStats {
    return { entries: this.entries.size, bytes: this.bytes, max_bytes: this.maxBytes, ...this.counts };
  }

  private add(entry: FrameEntry): FrameEntry {
    this.entries.set(entry.seq, entry);
    this.bytes += ENTRY_OVERHEAD;
    return entry;
  }

  private fill(entry: FrameEntry, codec: FrameCodec, event: XynEvent): string | Uint8Array {
    const have = codec === 'json' ? entry.json : entry.msgpack;
    if (have) return have;
    this.counts.encoded++;
    // JSON as a string: uWS takes it as is (a Buffer per event cost more to make than it saved).
    const bytes = codec === 'json' ? (entry.json = toJson(event)) : (entry.msgpack = encode(event));
    // An entry evicted while a client still held it is not counted: it goes with the client's next step.
    if (this.entries.get(entry.seq) === entry) this.bytes += bytes.length;
    return bytes;
  }

  private evict(): void {
    for (const [seq, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) return;
      this.entries.delete(seq);
      this.bytes -= ENTRY_OVERHEAD + (entry.json?.length ?? 0) + (entry.msgpack?.length ?? 0);
    }
  }
}

/** JSON of an event; a bigint in its data (msgpack carries them, JSON cannot) is written as its decimal string. */
function toJson(event: XynEvent): string {
  try {
    return JSON.stringify(event);
  } catch {
    return JSON.stringify(event, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  }
}
