/**
 * The direct canonical writer must give msgpackr's bytes (of the key-sorted
 * value) for everything it accepts, and leave the rest to msgpackr: content
 * addresses and output digests depend on these bytes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { beginCanonical, canonicalEncode, canonicalMapHeader, canonicalOffset, canonicalPieces, canonicalString, canonicalValue, copyCanonical, sortKeysDeep, writeCanonical } from '../../src/core/canonical.ts';
import { asciiKey, hex, msgpackrBytes, value } from '../helpers/canonical-values.ts';

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

  it('writes a map piece by piece as msgpackr does, and copies a piece out until the next encode', () => {
    const target = new Uint8Array(1 << 20);
    fc.assert(
      fc.property(asciiKey, value, (key, v) => {
        const of = beginCanonical();
        canonicalMapHeader(2);
        canonicalString('a');
        canonicalString(key);
        canonicalString('b');
        const start = canonicalOffset();
        const direct = canonicalValue(v);
        const end = canonicalOffset();
        if (direct) {
          expect(hex(canonicalPieces())).toBe(msgpackrBytes({ a: key, b: v }));
          const n = copyCanonical(of, start, end, target);
          expect(hex(target.subarray(0, n))).toBe(hex(canonicalEncode(v)));
          expect(copyCanonical(of, start, end, target.subarray(0, end - start - 1))).toBe(-1);
        } else {
          expect(writeCanonical(v)).toBeUndefined();
        }
        // Any other encode in between: the piece is gone.
        writeCanonical(1);
        expect(copyCanonical(of, start, end, target)).toBe(-1);
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
