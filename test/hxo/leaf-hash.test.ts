/** The native addon's Merkle-leaf functions: in use, the same roots as merkle.ts computes, and safe with bad arguments. */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { perfectRoots } from '../../src/hxo/certify/leaf-hash.ts';
import { merkleRoot } from '../../src/hxo/certify/merkle.ts';

describe('native perfect Merkle roots', () => {
  it('are built by npm install and in use', () => {
    expect(perfectRoots).toBeTypeOf('function');
  });

  it.each([1, 2, 16, 1024])('perfectRoots of blocks of %i leaves equal the RFC 9162 roots', (size) => {
    const blocks = 5;
    const leaves = new Uint8Array(new SharedArrayBuffer(blocks * size * 32));
    leaves.set(randomBytes(leaves.length));
    const out = new Uint8Array(3 * 32);
    perfectRoots?.(leaves, 1, 4, size, out);
    for (let b = 1; b < 4; b++) {
      expect(Buffer.from(out.subarray((b - 1) * 32, b * 32)).toString('hex')).toBe(merkleRoot(leaves, b * size, (b + 1) * size).toString('hex'));
    }
  });

  it('refuses bad arguments with an error instead of reading or writing out of bounds', () => {
    const leaves = new Uint8Array(1024 * 32);
    expect(() => perfectRoots?.(leaves, 0, 2, 1024, new Uint8Array(64))).toThrow(RangeError);
    expect(() => perfectRoots?.(leaves, 0, 1, 1000, new Uint8Array(32))).toThrow(RangeError);
  });
});
