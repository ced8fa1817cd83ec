/**
 * The leaf map's frames (leaves/leaf-frame.ts, leaf-states.ts): a client
 * that applies the first whole frame and then every delta holds exactly the
 * server's states; deltas carry only what changed; a client too far behind,
 * or holding another map's version, gets the whole map again.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FRAME_HEADER_BYTES, FrameFormatError, REUSED_BIT, SPLIT_BIT, SlotState, applyFrame, decodeFrame } from '../../src/hxo/leaves/leaf-frame.ts';
import { LeafStates } from '../../src/hxo/leaves/leaf-states.ts';

/** The server's map as a client holds it: one byte a slot. */
function expected(s: LeafStates): Uint8Array {
  return Uint8Array.from({ length: s.slots }, (_, i) => s.stateOf(i) | (s.isReused(i) ? REUSED_BIT : 0) | (s.isSplit(i) ? SPLIT_BIT : 0));
}

describe('leaf frames', () => {
  it('a whole frame, then deltas, keep a client equal to the server', () => {
    const change = fc.record({ start: fc.nat(199), count: fc.integer({ min: 1, max: 40 }), state: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<SlotState>, reused: fc.boolean(), split: fc.boolean() });
    fc.assert(
      fc.property(fc.array(fc.array(change, { maxLength: 6 }), { minLength: 1, maxLength: 8 }), (polls) => {
        const server = new LeafStates(203);
        const client = new Uint8Array(203);
        let version: number | undefined;
        for (const changes of polls) {
          for (const c of changes) {
            const count = Math.min(c.count, 203 - c.start);
            server.mark(c.start, count, c.state);
            if (c.reused) server.reused(c.start);
            if (c.split) server.splitAt(c.start);
          }
          const frame = decodeFrame(server.frame(version));
          if (version === undefined) expect(frame.delta).toBe(false);
          if (frame.delta) expect(frame.since).toBe(version);
          applyFrame(client, frame);
          version = frame.version;
          expect(client).toEqual(expected(server));
        }
      }),
    );
  });

  it('a delta carries only the changed slots, merged into runs, and nothing when nothing changed', () => {
    const s = new LeafStates(1_000_000);
    const first = decodeFrame(s.frame());
    expect(first.delta).toBe(false);
    expect(first.states.length).toBe(250_000);
    s.mark(10, 100, SlotState.running);
    s.mark(50, 100, SlotState.done);
    s.mark(999_990, 10, SlotState.failed);
    const bytes = s.frame(first.version);
    const delta = decodeFrame(bytes);
    expect(delta.delta).toBe(true);
    expect(delta.runs).toEqual([10, 140, 999_990, 10]);
    expect(bytes.length).toBe(FRAME_HEADER_BYTES + 2 * 8 + Math.ceil(150 / 4));
    const none = decodeFrame(s.frame(delta.version));
    expect([none.delta, none.runs, none.states.length]).toEqual([true, [], 0]);
  });

  it('reused slots travel as ranges', () => {
    const s = new LeafStates(64);
    s.mark(0, 64, SlotState.done);
    for (let i = 8; i < 40; i++) s.reused(i);
    expect(decodeFrame(s.frame()).reused).toEqual([8, 32]);
  });

  it('a version from another map, from the future, or fallen out of the log gets the whole map', () => {
    const a = new LeafStates(10);
    const b = new LeafStates(10);
    a.mark(0, 1, SlotState.done);
    expect(decodeFrame(b.frame(a.version)).delta).toBe(false);
    expect(decodeFrame(a.frame(a.version + 1)).delta).toBe(false);
    const old = a.version;
    for (let i = 0; i < 20_000; i++) a.mark(i % 10, 1, SlotState.running);
    expect(decodeFrame(a.frame(old)).delta).toBe(false);
    expect(decodeFrame(a.frame(a.version - 5)).delta).toBe(true);
  });

  it('counts each state', () => {
    const s = new LeafStates(10);
    s.mark(0, 4, SlotState.done);
    s.set(4, SlotState.failed);
    s.set(5, SlotState.running);
    s.reused(0);
    s.splitAt(9);
    expect(s.counts()).toEqual({ pending: 4, running: 1, done: 4, failed: 1, reused: 1, split: 1 });
  });

  it('refuses what is not a frame, saying why', () => {
    expect(() => decodeFrame(new Uint8Array(10))).toThrow(FrameFormatError);
    expect(() => decodeFrame(new Uint8Array(40))).toThrow(/bad magic/);
    expect(() => applyFrame(new Uint8Array(3), decodeFrame(new LeafStates(4).frame()))).toThrow(/4 slots applied to a map of 3/);
  });
});
