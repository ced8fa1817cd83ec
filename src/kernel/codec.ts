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

/**
 * Returns the value with every object's keys in sorted order (and undefined
 * fields dropped). Values already in canonical order are returned as they are,
 * without copying: the hot path (shard inputs built in key order) allocates nothing.
 */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = sortKeysDeep(value[i]);
      if (v !== value[i]) (copy ??= value.slice())[i] = v;
    }
    return copy ?? value;
  }
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array || value instanceof Date) return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let canonical = true;
  for (let i = 0; i < keys.length && canonical; i++) {
    const v = record[keys[i] as string];
    if (v === undefined || (i > 0 && (keys[i - 1] as string) >= (keys[i] as string)) || sortKeysDeep(v) !== v) canonical = false;
  }
  if (canonical) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of keys.sort()) {
    const v = record[key];
    if (v !== undefined) sorted[key] = sortKeysDeep(v);
  }
  return sorted;
}

/** Canonical msgpack: equal values always give equal bytes. */
export function canonicalEncode(value: unknown): Uint8Array {
  return encode(sortKeysDeep(value));
}

/**
 * Canonical msgpack as a view into a scratch buffer that the next encode
 * overwrites: for hashing on the spot without a copy.
 */
export function canonicalView(value: unknown): Uint8Array {
  return packr.pack(sortKeysDeep(value));
}
