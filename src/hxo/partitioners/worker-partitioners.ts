/**
 * What shard workers need of partitioners: random access (`at`) for the
 * built-in ones that have it, so a batch carries shard indexes instead of
 * inputs. Only this module is loaded in a worker thread (no config schemas:
 * a worker starts faster without them); partitioners.ts builds the full
 * partitioners on it.
 */

export interface WorkerPartitioner {
  /** The input of shard i, equal to the i-th the partitioner's `shards` yields. */
  at(config: Record<string, unknown>, i: number): unknown;
}

export interface RangeConfig {
  total: number;
  per_shard: number;
}

/** `by_range` shard i: `{start, end}` in the key order canonical msgpack writes. */
export function rangeAt({ total, per_shard }: RangeConfig, i: number): { end: number; start: number } {
  return { end: Math.min((i + 1) * per_shard, total), start: i * per_shard };
}

/** [start, end) in at most `factor` contiguous parts, as even as integers allow (bigger ones first). */
export function splitRange({ start, end }: { start: number; end: number }, factor: number): { end: number; start: number }[] {
  const length = end - start;
  const parts = Math.min(factor, length);
  const out: { end: number; start: number }[] = [];
  for (let k = 0, from = start; k < parts; k++) {
    const size = Math.floor(length / parts) + (k < length % parts ? 1 : 0);
    out.push({ end: from + size, start: from });
    from += size;
  }
  return out;
}

/** Built-in partitioners with `at`, by the name a batch task gives. */
export const workerPartitioners: Readonly<Record<string, WorkerPartitioner>> = {
  by_range: { at: (config, i) => rangeAt(config as unknown as RangeConfig, i) },
};
