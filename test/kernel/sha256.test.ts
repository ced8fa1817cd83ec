import { describe, expect, it } from 'vitest';
import { hash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nativeHashing, sha256, sha256Into } from '../../src/kernel/sha256.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('native SHA-256', () => {
  it('is built by npm install and in use', () => {
    expect(nativeHashing).toBe(true);
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

  it('refuses bad arguments with an error instead of reading or writing out of bounds', () => {
    expect(() => sha256Into(new Uint8Array(4), new Uint8Array(40), 9)).toThrow(RangeError);
    expect(() => sha256Into('text' as unknown as Uint8Array, new Uint8Array(32), 0)).toThrow(TypeError);
  });

  it('falls back to node:crypto with the same results when the addon is off', () => {
    const script = "import('./src/kernel/sha256.ts').then((m) => { const o = Buffer.alloc(32); m.sha256Into(Buffer.from('abc'), o, 0); console.log(m.nativeHashing, o.toString('hex')); })";
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, env: { ...process.env, XYN_NATIVE_HASHING: '0' }, encoding: 'utf8' });
    expect(out.trim()).toBe(`false ${hash('sha256', 'abc', 'hex')}`);
  });
});
