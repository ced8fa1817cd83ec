/**
 * The state of every shard of one plan, packed for the leaf map: 2 bits a
 * slot (leaf-frame.ts: pending, running, done, failed), a bit a slot for
 * reused, the split slots, a version that moves on with every change, and a
 * bounded log of which slots each change touched. A client holding version
 * V gets only the slots changed since (a delta); one too far behind — its
 * changes fell out of the log — gets the whole map again.
 *
 * A live plan's run updates it per run of a batch (run/leaf-watch.ts), so a
 * request never scans checkpoints; an ended plan's is built once from its
 * checkpoint summaries (leaf-summaries.ts). A million slots: 250 KB + 125 KB.
 *
 *   const states = new LeafStates(1_000_000);
 *   states.mark(0, 500, SlotState.running);
 *   const frame = states.frame(clientVersion);   // Uint8Array, leaf-frame.ts
 */
import { encodeFrame, packStates, type SlotState } from './leaf-frame.ts';

/** Changes the log holds: at a few hundred a second per plan, a client polling every half second is never near its end. */
const LOG_ENTRIES = 16_384;

/**
 * Versions come from one clock for every map of this process, starting at
 * the time it started: a version a client holds from another map (the plan
 * was launched again, the node restarted) is never mistaken for one of this map.
 */
let clock = Date.now();

export class LeafStates {
  private readonly packed: Uint8Array;
  private readonly reusedBits: Uint8Array;
  private readonly split = new Set<number>();
  private readonly first: number;
  private current: number;
  /** The newest version that fell out of the log: a client behind it gets a whole frame. */
  private evicted: number;
  private readonly logVersion = new Float64Array(LOG_ENTRIES);
  private readonly logStart = new Uint32Array(LOG_ENTRIES);
  private readonly logCount = new Uint32Array(LOG_ENTRIES);
  private logNext = 0;
  private logSize = 0;
  /** Nothing will change any more: the client may stop asking. */
  ended = false;

  constructor(readonly slots: number) {
    this.packed = new Uint8Array(Math.ceil(slots / 4));
    this.reusedBits = new Uint8Array(Math.ceil(slots / 8));
    this.first = this.current = this.evicted = ++clock;
  }

  get version(): number {
    return this.current;
  }

  /** Slots [start, start + count) are now `state` (and not reused: `reused` says which are). */
  mark(start: number, count: number, state: SlotState): void {
    const end = start + count;
    // Slot by slot to a multiple of 8, whole bytes of both arrays at once in between, slot by slot after.
    let s = start;
    for (; s < end && (s & 7) !== 0; s++) this.put(s, state);
    const whole = end & ~7;
    if (whole > s) {
      this.packed.fill(state * 0b01010101, s >> 2, whole >> 2);
      this.reusedBits.fill(0, s >> 3, whole >> 3);
      s = whole;
    }
    for (; s < end; s++) this.put(s, state);
    this.logged(start, count);
  }

  private put(s: number, state: SlotState): void {
    const shift = (s & 3) * 2;
    this.packed[s >> 2] = ((this.packed[s >> 2] as number) & ~(3 << shift)) | (state << shift);
    this.reusedBits[s >> 3] = (this.reusedBits[s >> 3] as number) & ~(1 << (s & 7));
  }

  /** One slot is now `state` (a shard of a batch that ended otherwise than the rest). */
  set(slot: number, state: SlotState, reused = false): void {
    this.mark(slot, 1, state);
    if (reused) this.reusedBits[slot >> 3] = (this.reusedBits[slot >> 3] as number) | (1 << (slot & 7));
  }

  /** Marks a slot reused (done with an earlier run's output), within a change already logged. */
  reused(slot: number): void {
    this.reusedBits[slot >> 3] = (this.reusedBits[slot >> 3] as number) | (1 << (slot & 7));
  }

  /** The slot's shard was split into sub-shards. */
  splitAt(slot: number): void {
    this.split.add(slot);
    this.logged(slot, 1);
  }

  stateOf(slot: number): SlotState {
    return (((this.packed[slot >> 2] as number) >> ((slot & 3) * 2)) & 3) as SlotState;
  }

  isReused(slot: number): boolean {
    return (((this.reusedBits[slot >> 3] as number) >> (slot & 7)) & 1) === 1;
  }

  isSplit(slot: number): boolean {
    return this.split.has(slot);
  }

  /** Slots per state, and reused and split, counted now. */
  counts(): { pending: number; running: number; done: number; failed: number; reused: number; split: number } {
    const n = [0, 0, 0, 0];
    for (let s = 0; s < this.slots; s++) (n[this.stateOf(s)] as number)++;
    let reused = 0;
    for (const byte of this.reusedBits) reused += popcount8(byte);
    return { pending: n[0] as number, running: n[1] as number, done: n[2] as number, failed: n[3] as number, reused, split: this.split.size };
  }

  /** What brings a client at version `since` (absent: none) to now: a delta if the log has every change since, else the whole map. */
  frame(since?: number): Uint8Array {
    const runs = since === undefined ? undefined : this.changedSince(since);
    const split = [...this.split].sort((a, b) => a - b);
    if (!runs) {
      const whole = [0, this.slots];
      return encodeFrame({ delta: false, ended: this.ended, slots: this.slots, version: this.current, since: 0, runs: whole, reused: this.reusedRanges(whole), split }, this.packed);
    }
    return encodeFrame({ delta: true, ended: this.ended, slots: this.slots, version: this.current, since: since as number, runs, reused: this.reusedRanges(runs), split }, packStates(this.packed, runs));
  }

  /** The slots changed after version `since`, as merged [start, count] pairs; undefined when the log cannot say. */
  changedSince(since: number): number[] | undefined {
    if (since < this.evicted || since < this.first || since > this.current) return undefined;
    const ranges: [number, number][] = [];
    for (let i = 0, at = this.logNext - 1; i < this.logSize; i++, at--) {
      const e = (at + LOG_ENTRIES) % LOG_ENTRIES;
      if ((this.logVersion[e] as number) <= since) break;
      ranges.push([this.logStart[e] as number, (this.logStart[e] as number) + (this.logCount[e] as number)]);
    }
    ranges.sort((a, b) => a[0] - b[0]);
    const out: number[] = [];
    let carried = 0;
    for (const [start, end] of ranges) {
      const last = out.length - 2;
      const lastEnd = last >= 0 ? (out[last] as number) + (out[last + 1] as number) : -1;
      if (start <= lastEnd) {
        if (end > lastEnd) {
          carried += end - lastEnd;
          out[last + 1] = end - (out[last] as number);
        }
      } else {
        carried += end - start;
        out.push(start, end - start);
      }
    }
    // A delta of most of the map is no smaller than the map, and slower to apply.
    return carried > this.slots / 2 ? undefined : out;
  }

  private logged(start: number, count: number): void {
    const at = this.logNext;
    if (this.logSize === LOG_ENTRIES) this.evicted = this.logVersion[at] as number;
    else this.logSize++;
    this.current = ++clock;
    this.logVersion[at] = this.current;
    this.logStart[at] = start;
    this.logCount[at] = count;
    this.logNext = (at + 1) % LOG_ENTRIES;
  }

  /** The reused slots inside `runs`, as [start, count] pairs. */
  private reusedRanges(runs: readonly number[]): number[] {
    const out: number[] = [];
    for (let r = 0; r < runs.length; r += 2) {
      const end = (runs[r] as number) + (runs[r + 1] as number);
      let open = -1;
      for (let s = runs[r] as number; s < end; s++) {
        // Whole bytes of nothing reused are skipped at once (the common case).
        if ((s & 7) === 0 && s + 8 <= end && this.reusedBits[s >> 3] === 0 && open < 0) {
          s += 7;
          continue;
        }
        if (this.isReused(s)) {
          if (open < 0) open = s;
        } else if (open >= 0) {
          out.push(open, s - open);
          open = -1;
        }
      }
      if (open >= 0) out.push(open, end - open);
    }
    return out;
  }
}

function popcount8(b: number): number {
  let n = 0;
  for (let x = b; x !== 0; x &= x - 1) n++;
  return n;
}
