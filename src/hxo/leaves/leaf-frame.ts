/**
 * The leaf map's wire format: the state of every shard of a plan, 2 bits a
 * shard, as one binary frame — the whole map, or only what changed since a
 * version the client holds (a delta). Pure (no Node, no DOM): the node
 * encodes with it (leaf-states.ts) and the browser decodes with it
 * (src/ui/browser/leaf-map-worker.ts), so the two cannot drift apart.
 *
 * Slots are the plan's shards before any split, stage after stage (a
 * stage's shard i at its offset + i): a split does not move the others'
 * pixels. Little-endian, all header fields 4-byte aligned:
 *
 *    0  u32  magic 0x314d4c58 ("XLM1")
 *    4  u8   kind: 0 whole, 1 delta
 *    5  u8   flags: bit 0 set once the plan has ended (nothing will change: stop asking)
 *    6  u16  0
 *    8  u32  slots in the plan
 *   12  u32  R: runs of slots this frame carries (a whole frame: one, [0, slots))
 *   16  u32  U: reused ranges
 *   20  u32  S: split slots
 *   24  f64  version of the map this frame brings the client to
 *   32  f64  since: the version a delta applies on (0 in a whole frame)
 *   40  R × (u32 start, u32 count)   the runs, ascending, not overlapping
 *       U × (u32 start, u32 count)   every reused slot inside the runs, as ranges (done with an earlier run's output)
 *       S × u32                      every split slot of the plan (in every frame: splits are few)
 *       states: 2 bits a slot of the runs, in run order, 4 a byte, the first in the low bits
 *
 * Reused and split are rare and come in runs (a re-run plan reuses whole
 * stages; auto-tuning splits a handful of shards), so they ride as ranges
 * rather than widen every slot to 3 bits.
 */

/** The four live states of a slot, 2 bits. */
export const SlotState = { pending: 0, running: 1, done: 2, failed: 3 } as const;
export type SlotState = (typeof SlotState)[keyof typeof SlotState];

export const FRAME_MAGIC = 0x314d4c58;
export const FRAME_HEADER_BYTES = 40;

export interface FrameContent {
  delta: boolean;
  ended: boolean;
  slots: number;
  version: number;
  since: number;
  /** Flat pairs [start, count]. */
  runs: readonly number[];
  /** Flat pairs [start, count]. */
  reused: readonly number[];
  split: readonly number[];
}

/** Encodes a frame around `states`: the runs' slots packed 2 bits each, in run order (`packStates`). */
export function encodeFrame(f: FrameContent, states: Uint8Array): Uint8Array {
  const lists = (f.runs.length + f.reused.length + f.split.length) * 4;
  const bytes = new Uint8Array(FRAME_HEADER_BYTES + lists + states.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, FRAME_MAGIC, true);
  view.setUint8(4, f.delta ? 1 : 0);
  view.setUint8(5, f.ended ? 1 : 0);
  view.setUint32(8, f.slots, true);
  view.setUint32(12, f.runs.length / 2, true);
  view.setUint32(16, f.reused.length / 2, true);
  view.setUint32(20, f.split.length, true);
  view.setFloat64(24, f.version, true);
  view.setFloat64(32, f.since, true);
  let at = FRAME_HEADER_BYTES;
  for (const list of [f.runs, f.reused, f.split]) {
    for (const v of list) {
      view.setUint32(at, v, true);
      at += 4;
    }
  }
  bytes.set(states, at);
  return bytes;
}

/** The states of `runs` (flat [start, count] pairs) out of a packed array of all slots, packed again in run order. */
export function packStates(packed: Uint8Array, runs: readonly number[]): Uint8Array {
  let carried = 0;
  for (let r = 1; r < runs.length; r += 2) carried += runs[r] as number;
  const out = new Uint8Array(Math.ceil(carried / 4));
  let k = 0;
  for (let r = 0; r < runs.length; r += 2) {
    const end = (runs[r] as number) + (runs[r + 1] as number);
    for (let slot = runs[r] as number; slot < end; slot++, k++) {
      const state = ((packed[slot >> 2] as number) >> ((slot & 3) * 2)) & 3;
      out[k >> 2] = (out[k >> 2] as number) | (state << ((k & 3) * 2));
    }
  }
  return out;
}

/** A frame's header and lists, and where its packed states start. */
export interface DecodedFrame extends FrameContent {
  states: Uint8Array;
}

export class FrameFormatError extends Error {
  override name = 'FrameFormatError';
}

export function decodeFrame(buffer: ArrayBuffer | Uint8Array): DecodedFrame {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  if (bytes.length < FRAME_HEADER_BYTES) throw new FrameFormatError(`a leaf frame has a ${FRAME_HEADER_BYTES}-byte header; got ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== FRAME_MAGIC) throw new FrameFormatError('not a leaf frame (bad magic)');
  const [r, u, s] = [view.getUint32(12, true), view.getUint32(16, true), view.getUint32(20, true)];
  const read = (at: number, n: number): number[] => Array.from({ length: n }, (_, i) => view.getUint32(at + i * 4, true));
  let at = FRAME_HEADER_BYTES;
  const runs = read(at, r * 2);
  at += r * 8;
  const reused = read(at, u * 2);
  at += u * 8;
  const split = read(at, s);
  at += s * 4;
  if (at > bytes.length) throw new FrameFormatError(`a leaf frame's lists run past its ${bytes.length} bytes`);
  return {
    delta: view.getUint8(4) === 1,
    ended: (view.getUint8(5) & 1) === 1,
    slots: view.getUint32(8, true),
    version: view.getFloat64(24, true),
    since: view.getFloat64(32, true),
    runs,
    reused,
    split,
    states: bytes.subarray(at),
  };
}

/** A client's map holds one byte a slot: its state, and these flags. */
export const REUSED_BIT = 4;
export const SPLIT_BIT = 8;

/**
 * Applies a decoded frame to a client's map (`slots` bytes) and calls
 * `changed(start, count)` for each run it rewrote and each split slot.
 */

export function applyFrame(map: Uint8Array, f: DecodedFrame, changed: (start: number, count: number) => void = () => {}): void {
  if (map.length !== f.slots) throw new FrameFormatError(`a frame of ${f.slots} slots applied to a map of ${map.length}`);
  let k = 0;
  for (let r = 0; r < f.runs.length; r += 2) {
    const start = f.runs[r] as number;
    const end = start + (f.runs[r + 1] as number);
    for (let slot = start; slot < end; slot++, k++) map[slot] = ((f.states[k >> 2] as number) >> ((k & 3) * 2)) & 3;
  }
  for (let r = 0; r < f.reused.length; r += 2) {
    const start = f.reused[r] as number;
    const end = start + (f.reused[r + 1] as number);
    for (let slot = start; slot < end; slot++) map[slot] = (map[slot] as number) | REUSED_BIT;
  }
  for (const slot of f.split) if (slot < map.length) map[slot] = (map[slot] as number) | SPLIT_BIT;
  for (let r = 0; r < f.runs.length; r += 2) changed(f.runs[r] as number, f.runs[r + 1] as number);
  for (const slot of f.split) changed(slot, 1);
}
