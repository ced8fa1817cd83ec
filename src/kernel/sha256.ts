/**
 * SHA-256 for the hot paths, without allocation: native (native/sha256.c,
 * built by `npm install`) when available, node:crypto otherwise — the bytes
 * are the same either way, only the speed differs (`nativeHashing` says which).
 *
 *   const out = Buffer.alloc(64);
 *   sha256Into(bytes, out, 32); // digest written at out[32..64)
 */
import { hash } from 'node:crypto';
import { native } from './native.ts';

/** True when the native addon is in use. */
export const nativeHashing = native !== undefined;

/** Writes sha256(data) at out[outOffset .. outOffset + 32). */
export const sha256Into: (data: Uint8Array, out: Uint8Array, outOffset: number) => void = native
  ? native.sha256Into
  : (data, out, outOffset) => out.set(hash('sha256', data, 'buffer'), outOffset);

export function sha256(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(32);
  sha256Into(data, out, 0);
  return out;
}
