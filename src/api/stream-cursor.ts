/**
 * One stream subscription: where it is in the event log, and nothing else.
 *
 * A subscription holds no events. Its client asks it for its next step only
 * while the socket has room (stream-client.ts), and it takes that step from
 * the node's shared encoded events (event-frames.ts), which read the log a
 * page at a time on a miss. So a subscription costs the same few bytes
 * whether it is live, replaying a million events, or stalled.
 *
 * Invariants:
 * - `position` is the seq of the last event delivered or passed over; steps
 *   come out in seq order, each event once: no gap, no duplicate, whether the
 *   events are history or live (both are read the same way, from the log,
 *   up to the bus's last durable seq).
 * - A `since` subscription never skips an event the log still holds. When
 *   retention trimmed seqs it had not read (`floor` past `position`), it says
 *   `truncated` with the range gone and goes on from the oldest kept.
 * - A live subscription (no `since`) whose client does not read (its socket
 *   is full) stays within LIVE_WINDOW events of the log's tail: whatever
 *   falls further behind is skipped as the bus appends (`keepUp`) and told
 *   once with `lagged`, counting the skipped events it matched. It is never
 *   told `truncated` (what retention trims before it reads it is skipped).
 * - A step examines at most SCAN seqs and reads at most one page of the log,
 *   so that a narrow subscription scanning a long history never holds the
 *   event loop; `behind()` says it has more to look at.
 */
import { compilePattern } from '../kernel/topic.ts';
import type { EventFrames, FrameEntry } from './event-frames.ts';

/** An event (its bytes for the client's codec are there), or a notice. */
export type Step =
  | FrameEntry
  | { type: 'lagged'; skipped: number; from_seq: number; to_seq: number }
  | { type: 'truncated'; oldest_seq: number; from_seq: number; to_seq: number };

/** How far (in events of the log) a live subscription may be behind the tail before it skips. */
export const LIVE_WINDOW = 2048;
/** Seqs one step may examine (cached ones cost a map lookup each). */
const SCAN = 4096;

export class StreamCursor {
  private matcher: (name: string) => boolean;
  /** What precedes the event's bytes in this subscription's event frames (its client makes it once). */
  frameHead: string | Uint8Array | undefined;
  private lag: { skipped: number; from: number; to: number } | null = null;

  constructor(
    readonly id: number,
    public topics: readonly string[],
    /** Live: started at the tail, keeps up or skips. Else (`since`): reads everything from its position on. */
    readonly live: boolean,
    public position: number,
    /** What its client may see (hxo.audit needs hxo:audit): the rest is passed over like events of other topics. */
    private readonly visible: (name: string) => boolean,
  ) {
    this.matcher = matcherOf(topics, visible);
  }

  matches(name: string): boolean {
    return this.matcher(name);
  }

  /** Keeps only `topics`, going on from the same position: no gap, no repeat. */
  retopic(topics: readonly string[]): void {
    this.topics = topics;
    this.matcher = matcherOf(topics, this.visible);
  }

  behind(tail: number): boolean {
    return this.lag !== null || this.position < tail;
  }

  /** Live only: skips what is more than LIVE_WINDOW events behind `tail`, counting the skipped events it matched. */
  keepUp(tail: number, frames: EventFrames): void {
    const keepFrom = tail - LIVE_WINDOW;
    if (this.live && this.position < keepFrom) this.skipTo(keepFrom, frames);
  }

  /** A pending `lagged` notice, taken (the client closing a stalled connection says what it skipped). */
  takeLag(): number {
    const skipped = this.lag?.skipped ?? 0;
    this.lag = null;
    return skipped;
  }

  /** The next step up to `tail` (the bus's last durable seq), or undefined: caught up, or done examining for this turn. */
  next(tail: number, frames: EventFrames, codec: 'json' | 'msgpack'): Step | undefined {
    if (this.lag) {
      const { skipped, from, to } = this.lag;
      this.lag = null;
      return { type: 'lagged', skipped, from_seq: from, to_seq: to };
    }
    let loaded = false;
    for (let scanned = 0; this.position < tail && scanned < SCAN; scanned++) {
      let entry = frames.cached(this.position + 1);
      if (!entry) {
        if (loaded) return undefined;
        loaded = true;
        entry = frames.load(this.position + 1, tail, codec, (name) => this.matcher(name));
      }
      // Undefined when retention took it meanwhile: then the floor is past it.
      const bytes = entry && this.matcher(entry.name) ? frames.bytesOf(entry, codec) : undefined;
      // Checked after the reads: the floor rises before any deletion (event-log.ts).
      const floor = frames.floor;
      if (floor > this.position) {
        const to = Math.min(floor, tail);
        if (this.live) {
          this.skipTo(to, frames);
          return this.next(tail, frames, codec);
        }
        const from = this.position + 1;
        this.position = to;
        return { type: 'truncated', oldest_seq: to + 1, from_seq: from, to_seq: to };
      }
      if (!entry) {
        this.position = tail;
        return undefined;
      }
      this.position = entry.seq;
      if (bytes) return entry;
    }
    return undefined;
  }

  private skipTo(to: number, frames: EventFrames): void {
    for (let seq = this.position + 1; seq <= to; seq++) {
      const name = frames.nameOf(seq);
      if (name === undefined || !this.matcher(name)) continue;
      if (this.lag) {
        this.lag.skipped++;
        this.lag.to = seq;
      } else {
        this.lag = { skipped: 1, from: seq, to: seq };
      }
    }
    this.position = to;
  }
}

function matcherOf(topics: readonly string[], visible: (name: string) => boolean): (name: string) => boolean {
  const matchers = topics.map(compilePattern);
  const topic = matchers.length === 1 ? (matchers[0] as (name: string) => boolean) : (name: string) => matchers.some((m) => m(name));
  return (name) => topic(name) && visible(name);
}
