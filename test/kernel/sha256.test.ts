import { describe, expect, it } from 'vitest';
import { hash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nativeHashing, perfectRoots, sha256, sha256Into } from '../../src/kernel/sha256.ts';
import { merkleRoot } from '../../src/hxo/merkle.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('native SHA-256', () => {
  it('is built by npm install and in use', () => {
    expect(nativeHashing).toBe(true);
    expect(perfectRoots).toBeTypeOf('function');
  });

  it('gives the same digests as node:crypto, at any offset, for any length', () => {
    const out = Buffer.alloc(96);
    for (let len = 0; len <= 300; len += 7) {
      const data = randomBytes(len);
      sha256Into(data, out, 64);
      expect(out.subarray(64).toString('hex')).toBe(hash('sha256', data, 'hex'));
      expect(sha256(data).toString('hex')).toBe(hash('sha256', data, 'hex'));
    }
  });

  it('hashes in place (the output may be the input)', () => {
    const h = Buffer.from(hash('sha256', 'x', 'buffer'));
    const expected = hash('sha256', h, 'hex');
    sha256Into(h, h, 0);
    expect(h.toString('hex')).toBe(expected);
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
    expect(() => sha256Into(new Uint8Array(4), new Uint8Array(40), 9)).toThrow(RangeError);
    expect(() => sha256Into('text' as unknown as Uint8Array, new Uint8Array(32), 0)).toThrow(TypeError);
  });

  it('falls back to node:crypto with the same results when the addon is off', () => {
    const script = "import('./src/kernel/sha256.ts').then((m) => { const o = Buffer.alloc(32); m.sha256Into(Buffer.from('abc'), o, 0); console.log(m.nativeHashing, o.toString('hex')); })";
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, env: { ...process.env, XYN_NATIVE_HASHING: '0' }, encoding: 'utf8' });
    expect(out.trim()).toBe(`false ${hash('sha256', 'abc', 'hex')}`);
  });
});
