/**
 * msgpack encoding for everything that crosses a thread or goes to disk.
 *
 * `encode`/`decode`: the fast path for messages between threads. The bytes
 * are copied into an ArrayBuffer of their own so they can be *transferred*
 * (moved, not cloned) with postMessage. Canonical bytes for content
 * addresses: canonical.ts.
 */
import { Packr } from 'msgpackr';
// Registers the msgpack extension of packed event items with every Packr here.
import './hex-items.ts';

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
