/**
 * UUIDv7 (RFC 9562): 48 bits of epoch milliseconds, then random bits. Ids
 * made one after another sort in the order they were made — also within one
 * millisecond, where a 12-bit counter takes the place of randomness — so a
 * store keyed by them lists records oldest first without an index.
 *
 *   uuid7(clock.now()) // '0193b5a0-1c2e-7000-8a1b-…'
 */
import { randomFillSync } from 'node:crypto';

let lastMs = -1;
let counter = 0;
/** Random bytes drawn 4 KiB at a time (one call into the system's generator per 512 ids). */
const pool = new Uint8Array(4096);
let taken = pool.length;

export function uuid7(ms: number = Date.now()): string {
  if (ms <= lastMs) {
    // The same (or an earlier: a clock stepped back) millisecond: count on from the last id.
    counter++;
    if (counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
  } else {
    lastMs = ms;
    counter = 0;
  }
  if (taken + 8 > pool.length) {
    randomFillSync(pool);
    taken = 0;
  }
  const random = pool.subarray(taken, (taken += 8));
  const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
  const time = hex(lastMs, 12);
  const variant = hex(0x8000 | ((random[0] ?? 0) << 6) | ((random[1] ?? 0) >> 2 & 0x3f), 4);
  const tail = Buffer.from(random.subarray(2)).toString('hex');
  return `${time.slice(0, 8)}-${time.slice(8)}-7${hex(counter, 3)}-${variant}-${tail}`;
}
