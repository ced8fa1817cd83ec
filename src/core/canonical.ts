/**
 * Canonical msgpack: equal values always give equal bytes (map keys sorted,
 * undefined fields dropped). Content addresses (cas_id, output_digest, plan
 * and config digests) hash these bytes.
 *
 * A million-shard plan encodes three small values per shard (the address
 * frame, the input, the output), and msgpackr spends most of its time on
 * per-call setup for values that small. So the shapes shard values have —
 * plain objects, arrays, ASCII strings, 32-bit integers, booleans, null — are
 * written directly here, and anything else goes through msgpackr after
 * sorting its keys. A layer above can also write a map piece by piece
 * (`beginCanonical` …), as hxo/plan/address.ts writes a shard's address frame.
 *
 * Invariant: for every value the direct writer accepts, its bytes are exactly
 * msgpackr's (`useRecords: false`) of the key-sorted value: maps always with a
 * map16 header (msgpackr's fixed-size map header), keys in sorted order,
 * minimal headers for strings, arrays and integers. test/core/canonical.test.ts
 * checks this against msgpackr on generated values.
 */
import { Packr } from 'msgpackr';

/** msgpackr as `encode` (codec.ts) configures it: plain maps, no records. */
const fallback = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

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
    if (v === undefined) continue;
    // An own "__proto__" key (JSON.parse makes them) must stay a key: assigning
    // it would set the copy's prototype and drop the key from the bytes.
    if (key === '__proto__') Object.defineProperty(sorted, key, { value: sortKeysDeep(v), enumerable: true, writable: true, configurable: true });
    else sorted[key] = sortKeysDeep(v);
  }
  return sorted;
}

/** Canonical msgpack: equal values always give equal bytes. */
export function canonicalEncode(value: unknown): Uint8Array {
  return Uint8Array.prototype.slice.call(canonicalView(value)) as Uint8Array;
}

/**
 * Canonical msgpack as a view into a scratch buffer that the next encode
 * overwrites: for hashing on the spot without a copy. Common shapes are
 * written directly (canonical.ts); the rest by msgpackr after sorting keys.
 */
export function canonicalView(value: unknown): Uint8Array {
  return writeCanonical(value) ?? fallback.pack(sortKeysDeep(value));
}

const GIVE_UP = Symbol('not a fast-path value');

let buf = new Uint8Array(64 * 1024);
let pos = 0;
/**
 * Views of buf's first n bytes, by n: a shard encodes three small values,
 * and a view object per encode is garbage the worker would collect a few
 * million times per plan. Dropped when buf grows.
 */
let views: Uint8Array[] = [];

const CACHED_VIEWS = 1024;

/** buf[0, pos) as a view (for short values, the same object for the same length until buf grows). */
function written(): Uint8Array {
  if (pos >= CACHED_VIEWS) return new Uint8Array(buf.buffer, 0, pos);
  return (views[pos] ??= new Uint8Array(buf.buffer, 0, pos));
}

/**
 * The canonical bytes of `value` as a view into a scratch buffer the next
 * call overwrites, or undefined when `value` has a shape this writer leaves
 * to msgpackr (floats, big integers, binary, dates, class instances, keys
 * that look like array indexes).
 */
export function writeCanonical(value: unknown): Uint8Array | undefined {
  beginCanonical();
  return writeValue(value) === GIVE_UP ? undefined : written();
}

/** Counts the encodes into the scratch buffer: a piece's place is good only while no other encode has begun. */
let serial = 0;

/**
 * Canonical bytes written piece by piece into the same scratch buffer, for a
 * layer above that frames a value in a fixed map without building the map
 * object (hxo/plan/address.ts: a shard's address frame). Begin, write the map's
 * header, then each key and value in sorted key order; a piece that returns
 * false has a shape left to msgpackr (what was written is then void). The
 * bytes are `canonicalPieces()`, a view as writeCanonical's;
 * `canonicalOffset()` marks where a piece lies in them, and `copyCanonical`
 * copies it out until the next encode begins. Returns the encode's serial.
 */
export function beginCanonical(): number {
  pos = 0;
  return ++serial;
}

/** A map of `size` entries (the map16 header msgpackr writes for every map). */
export function canonicalMapHeader(size: number): void {
  ensure(3);
  buf[pos++] = 0xde;
  buf[pos++] = size >>> 8;
  buf[pos++] = size & 0xff;
}

/** Writes a string (a map's key, say); false when it is not ASCII. */
export function canonicalString(s: string): boolean {
  return writeString(s) !== GIVE_UP;
}

/** Writes any value the direct writer takes; false when it is msgpackr's. */
export function canonicalValue(value: unknown): boolean {
  return writeValue(value) !== GIVE_UP;
}

/** Where the next piece's bytes begin. */
export function canonicalOffset(): number {
  return pos;
}

/** The pieces written since beginCanonical, as a view the next encode overwrites. */
export function canonicalPieces(): Uint8Array {
  return written();
}

/**
 * Copies bytes [start, end) of encode `of` (beginCanonical's serial) into
 * `target` and returns their length; -1 when another encode has begun since
 * (the bytes are gone) or `target` is too short.
 */
export function copyCanonical(of: number, start: number, end: number, target: Uint8Array): number {
  if (of !== serial || end - start > target.length) return -1;
  for (let k = start; k < end; k++) target[k - start] = buf[k] as number;
  return end - start;
}

function ensure(extra: number): void {
  if (pos + extra <= buf.length) return;
  const grown = new Uint8Array(Math.max(buf.length * 2, pos + extra));
  grown.set(buf.subarray(0, pos));
  buf = grown;
  views = [];
}

function writeValue(value: unknown): typeof GIVE_UP | void {
  switch (typeof value) {
    case 'string':
      return writeString(value);
    case 'number':
      return writeInteger(value);
    case 'boolean':
      ensure(1);
      buf[pos++] = value ? 0xc3 : 0xc2;
      return;
    case 'object':
      if (value === null) {
        ensure(1);
        buf[pos++] = 0xc0;
        return;
      }
      if (Array.isArray(value)) return writeArray(value);
      return writeObject(value as Record<string, unknown>);
    default:
      return GIVE_UP;
  }
}

function writeInteger(n: number): typeof GIVE_UP | void {
  ensure(5);
  if (n >>> 0 === n) {
    if (n < 0x80) buf[pos++] = n;
    else if (n < 0x100) {
      buf[pos++] = 0xcc;
      buf[pos++] = n;
    } else if (n < 0x10000) {
      buf[pos++] = 0xcd;
      buf[pos++] = n >>> 8;
      buf[pos++] = n & 0xff;
    } else {
      buf[pos++] = 0xce;
      pos = u32(n, pos);
    }
  } else if (n >> 0 === n) {
    if (n >= -0x20) buf[pos++] = n & 0xff;
    else if (n >= -0x80) {
      buf[pos++] = 0xd0;
      buf[pos++] = n & 0xff;
    } else if (n >= -0x8000) {
      buf[pos++] = 0xd1;
      buf[pos++] = (n >> 8) & 0xff;
      buf[pos++] = n & 0xff;
    } else {
      buf[pos++] = 0xd2;
      pos = u32(n >>> 0, pos);
    }
  } else {
    return GIVE_UP;
  }
}

/** ASCII only: msgpackr's own UTF-8 writer differs from Buffer's on lone surrogates, so the rest is its to encode. */
function writeString(s: string): typeof GIVE_UP | void {
  const n = s.length;
  ensure(5 + n);
  if (n < 0x20) buf[pos++] = 0xa0 | n;
  else if (n < 0x100) {
    buf[pos++] = 0xd9;
    buf[pos++] = n;
  } else if (n < 0x10000) {
    buf[pos++] = 0xda;
    buf[pos++] = n >>> 8;
    buf[pos++] = n & 0xff;
  } else {
    buf[pos++] = 0xdb;
    pos = u32(n, pos);
  }
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return GIVE_UP;
    buf[pos++] = c;
  }
}

function writeArray(a: unknown[]): typeof GIVE_UP | void {
  const n = a.length;
  ensure(5);
  if (n < 0x10) buf[pos++] = 0x90 | n;
  else if (n < 0x10000) {
    buf[pos++] = 0xdc;
    buf[pos++] = n >>> 8;
    buf[pos++] = n & 0xff;
  } else {
    buf[pos++] = 0xdd;
    pos = u32(n, pos);
  }
  for (let i = 0; i < n; i++) {
    // msgpackr writes a hole or undefined as its own extension: leave it to msgpackr.
    const v = a[i];
    if (v === undefined || writeValue(v) === GIVE_UP) return GIVE_UP;
  }
}

/** Integer-like keys: JS orders them numerically ahead of the rest, which sorting cannot express. */
const INDEX_KEY = /^(?:0|[1-9]\d*)$/;

function writeObject(o: Record<string, unknown>): typeof GIVE_UP | void {
  const proto = Object.getPrototypeOf(o) as unknown;
  if (proto !== Object.prototype && proto !== null) return GIVE_UP;
  const keys = Object.keys(o);
  let sorted = true;
  let defined = 0;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    const c0 = k.charCodeAt(0);
    if (c0 >= 0x30 && c0 <= 0x39 && INDEX_KEY.test(k)) return GIVE_UP;
    if (i > 0 && (keys[i - 1] as string) > k) sorted = false;
    if (o[k] !== undefined) defined++;
  }
  if (defined >= 0x10000) return GIVE_UP;
  if (!sorted) keys.sort();
  canonicalMapHeader(defined);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    const v = o[k];
    if (v === undefined) continue;
    if (writeString(k) === GIVE_UP || writeValue(v) === GIVE_UP) return GIVE_UP;
  }
}

/** Big-endian u32 at `at`; returns the position after it. */
function u32(n: number, at: number): number {
  buf[at] = n >>> 24;
  buf[at + 1] = (n >>> 16) & 0xff;
  buf[at + 2] = (n >>> 8) & 0xff;
  buf[at + 3] = n & 0xff;
  return at + 4;
}
