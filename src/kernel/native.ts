/**
 * xyn's native addon (native/, built by `npm install` with node-gyp when
 * the machine can: scripts/build-native.mjs), loaded once; undefined when it
 * is not built or XYN_NATIVE_HASHING=0 — every user of it has a JS fallback.
 *
 * NativeAddon types the kernel's generic functions; the addon's Merkle-leaf
 * functions are typed where they are used (src/hxo/certify/leaf-hash.ts).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface NativeAddon {
  sha256Into(data: Uint8Array, out: Uint8Array, outOffset: number): void;
  /** Moves the calling thread to SCHED_IDLE (Linux); false where it cannot. */
  schedIdle(): boolean;
}

function load(): NativeAddon | undefined {
  if (process.env.XYN_NATIVE_HASHING === '0') return undefined;
  // src/kernel/ in source, dist/src/kernel/ when built: the addon is under the package root.
  const candidates = ['../../build/Release/xyn_native.node', '../../../build/Release/xyn_native.node'].map((rel) => new URL(rel, import.meta.url));
  const found = candidates.find((url) => existsSync(url));
  if (!found) return undefined;
  try {
    return createRequire(import.meta.url)(found.pathname) as NativeAddon;
  } catch {
    return undefined;
  }
}

export const native = load();
