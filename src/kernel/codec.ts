/**
 * msgpack encoding for everything that crosses a thread or goes to disk.
 *
 * Two flavours:
 * - `encode`/`decode`: the fast path for messages between threads. The bytes
 *   are copied into an ArrayBuffer of their own so they can be *transferred*
 *   (moved, not cloned) with postMessage.
 * - `canonicalEncode`: map keys sorted recursively, so equal values always
 *   give equal bytes; content addresses (cas_id, output_digest) hash these.
 */
import { Packr } from 'msgpackr';

// Plain maps and arrays only: records/structures would make the bytes depend on
// what was encoded before, which breaks both canonical hashing and decoding in
// a thread that has not seen the same structures.
const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

/** Encodes into a standalone buffer that may be transferred to another thread. */
export function encode(value: unknown): Uint8Array {
  const packed = packr.pack(value);
  // pack() returns a view into a shared scratch buffer; copy it out.
  return Uint8Array.prototype.slice.call(packed) as Uint8Array;
}

export function decode<T = unknown>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}

/** Returns the same value with every object's keys in sorted order. */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && !(value instanceof Date)) {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) sorted[key] = sortKeysDeep(v);
    }
    return sorted;
  }
  return value;
}

/** Canonical msgpack: equal values always give equal bytes. */
export function canonicalEncode(value: unknown): Uint8Array {
  return encode(sortKeysDeep(value));
}
