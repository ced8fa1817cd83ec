/**
 * The direct canonical writer must give msgpackr's bytes (of the key-sorted
 * value) for everything it accepts, and leave the rest to msgpackr: content
 * addresses and output digests depend on these bytes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { canonicalEncode, copyFrameInput, sortKeysDeep, writeAddressFrame, writeCanonical } from '../../src/core/canonical.ts';

const reference = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });
const msgpackrBytes = (v: unknown) => Buffer.from(reference.pack(sortKeysDeep(v))).toString('hex');
const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : undefined);

const boundaryInts = fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, -1, -0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, -0x80000000);
const asciiKey = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz_0123456789'), maxLength: 12 });
const anyKey = fc.oneof(asciiKey, fc.string(), fc.constantFrom('0', '7', '10', '01', '__proto__x', '__proto__'));
const leaf = fc.oneof(
  fc.integer({ min: -0x80000000, max: 0xffffffff }),
  boundaryInts,
  fc.double(),
  fc.constantFrom(2 ** 32, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, -0),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 8 }),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 20 }), fc.dictionary(anyKey, tie('v'), { maxKeys: 20 })),
})).v;

describe('canonical msgpack writer', () => {
  it('gives msgpackr bytes for every generated value (or leaves it to msgpackr)', () => {
    let direct = 0;
    fc.assert(
      fc.property(value, (v) => {
        const want = msgpackrBytes(v);
        expect(Buffer.from(canonicalEncode(v)).toString('hex')).toBe(want);
        const written = writeCanonical(v);
        if (written) {
          direct++;
          expect(hex(written)).toBe(want);
        }
      }),
      { numRuns: 3000 },
    );
    // The comparison means something only if the direct writer took a good share.
    expect(direct).toBeGreaterThan(600);
  });

  it('writes the address frame as the sorted {executor, input, kind} map, and hands out the input\'s own bytes from it', () => {
    const target = new Uint8Array(1 << 20);
    fc.assert(
      fc.property(asciiKey, asciiKey, value, (kind, executor, input) => {
        const frame = writeAddressFrame(kind, executor, input);
        if (frame) {
          expect(hex(frame)).toBe(msgpackrBytes({ kind, input, executor }));
          const n = copyFrameInput(target);
          expect(hex(target.subarray(0, n))).toBe(hex(canonicalEncode(input)));
        } else {
          expect(writeCanonical(input)).toBeUndefined();
          expect(copyFrameInput(target)).toBe(-1);
        }
        // Any other encode in between: no frame to copy from.
        writeCanonical(1);
        expect(copyFrameInput(target)).toBe(-1);
      }),
      { numRuns: 2000 },
    );
  });

  it('takes the shapes shard values have, at every size boundary', () => {
    const shapes: unknown[] = [
      { start: 0, end: 1 },
      { z: [1, 'a', null, true, false], a: { y: -5, b: 'x'.repeat(31) } },
      'x'.repeat(32),
      'x'.repeat(255),
      'x'.repeat(256),
      'x'.repeat(65535),
      'x'.repeat(65536),
      Array.from({ length: 15 }, (_, i) => i),
      Array.from({ length: 16 }, (_, i) => i),
      Array.from({ length: 70_000 }, (_, i) => i % 300),
      Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i * 1000])),
      { dropped: undefined, kept: 1 },
    ];
    for (const v of shapes) {
      const direct = writeCanonical(v);
      expect(direct, JSON.stringify(v).slice(0, 40)).toBeDefined();
      expect(hex(direct)).toBe(msgpackrBytes(v));
    }
  });

  it('keeps an own "__proto__" key as a key when it sorts (JSON.parse makes them), in both writers', () => {
    const v = JSON.parse('{"z":1,"__proto__":{"b":2,"a":1}}') as unknown;
    const sorted = sortKeysDeep(v) as Record<string, unknown>;
    expect(Object.getPrototypeOf(sorted)).toBe(Object.prototype);
    expect(Object.keys(sorted)).toEqual(['__proto__', 'z']);
    const bytes = Buffer.from(canonicalEncode(v)).toString('hex');
    expect(bytes).toBe(msgpackrBytes(v));
    // Not the bytes of the object without the key.
    expect(bytes).not.toBe(msgpackrBytes({ z: 1 }));
  });

  it('leaves floats, big integers, binary, dates, index-like keys and non-ASCII strings to msgpackr', () => {
    for (const v of [1.5, 2 ** 32, -(2 ** 31) - 1, new Uint8Array([1]), new Date(0), { 10: 'a', 9: 'b' }, 'é', [undefined], new Map()]) {
      expect(writeCanonical(v)).toBeUndefined();
      expect(Buffer.from(canonicalEncode(v)).toString('hex')).toBe(msgpackrBytes(v));
    }
  });
});
