/**
 * Items of the batched shard events (DESIGN.md §5), made straight from a
 * batch result's raw columns and kept packed (core/hex-items.ts) — a
 * reader sees:
 *
 *   hxo.shard.created {plan_id, stage_id, phase: 'pending', count, items: [cas_id, …]}
 *   hxo.shard.claimed {plan_id, stage_id, count, items: [cas_id, …]}
 *   hxo.shard.done    {plan_id, stage_id, count, items: [{cas_id, output_digest, reused?}, …]}
 *
 * (`hxo.shard.failed` items carry error text and stay plain objects.)
 * `rows` picks shards of the batch by position; 'all' takes every one without copying.
 */
import { HexItems } from '../../core/hex-items.ts';

const CAS_BYTES = 8;
const DIGEST_BYTES = 32;

export type Rows = number[] | 'all';

/**
 * Rows of a batch picked in order. While they are every row so far, no array
 * is made (the common case: a batch whose shards all did the same thing
 * costs the main thread no garbage).
 */
export class RowPicker {
  private list: number[] | undefined;
  private count = 0;

  add(j: number): void {
    if (this.list) this.list.push(j);
    else if (j === this.count) this.count++;
    else {
      this.list = Array.from({ length: this.count }, (_, k) => k);
      this.list.push(j);
    }
  }

  get size(): number {
    return this.list ? this.list.length : this.count;
  }

  /** The rows picked, of a batch of `n`. */
  rows(n: number): Rows {
    if (this.list) return this.list;
    return this.count === n ? 'all' : Array.from({ length: this.count }, (_, k) => k);
  }
}

export function casIdItems(cas: Uint8Array, rows: Rows): HexItems {
  const picked = pick(cas, CAS_BYTES, rows);
  return new HexItems(picked.length / CAS_BYTES, [{ name: '', bytes: CAS_BYTES, data: picked }]);
}

/** `reused`: one byte per shard of the batch, 1 where the output came from the memo. */
export function doneItems(cas: Uint8Array, digests: Uint8Array, reused: Uint8Array, rows: Rows): HexItems {
  const n = rows === 'all' ? cas.length / CAS_BYTES : rows.length;
  return new HexItems(
    n,
    [
      { name: 'cas_id', bytes: CAS_BYTES, data: pick(cas, CAS_BYTES, rows) },
      { name: 'output_digest', bytes: DIGEST_BYTES, data: pick(digests, DIGEST_BYTES, rows) },
    ],
    [{ name: 'reused', data: pick(reused, 1, rows) }],
  );
}

function pick(data: Uint8Array, bytes: number, rows: Rows): Uint8Array {
  if (rows === 'all') return data;
  const out = new Uint8Array(rows.length * bytes);
  rows.forEach((j, k) => out.set(data.subarray(j * bytes, j * bytes + bytes), k * bytes));
  return out;
}
