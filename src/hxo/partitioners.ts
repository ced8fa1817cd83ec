/**
 * Partitioners split a stage into shards lazily: `shards(config)` is a
 * generator, so a million-shard plan never holds its shard specs in memory,
 * and `count(config)` says how many there will be without making them.
 * A partitioner is deterministic: the same config always yields the same
 * shards in the same order (leaf order, and so the root, depends on it).
 *
 * A built-in partitioner whose shard i can be computed on its own (`at`) is
 * listed in `workerPartitioners`: a shard worker then makes the inputs of a
 * batch itself from their indexes, and batches carry no inputs at all.
 */
import { z } from 'zod';

export interface Partitioner<C = Record<string, unknown>> {
  readonly name: string;
  /** Validates (and defaults) the stage config this partitioner reads. */
  readonly config: z.ZodType<C>;
  count(config: C): number;
  shards(config: C): Iterable<unknown>;
  /** Random access: the input of shard i (0 ≤ i < count), equal to the i-th of `shards`. */
  at?(config: C, i: number): unknown;
}

const byRangeConfig = z.object({
  total: z.number().int().min(0),
  per_shard: z.number().int().min(1).default(1),
});

/** `by_range`: integers [0, total) in shards of `per_shard`: input `{start, end}`. */
export const byRange: Partitioner<z.infer<typeof byRangeConfig>> = {
  name: 'by_range',
  config: byRangeConfig,
  count: ({ total, per_shard }) => Math.ceil(total / per_shard),
  *shards({ total, per_shard }) {
    for (let start = 0; start < total; start += per_shard) {
      // Keys in sorted order, as canonical msgpack writes them.
      yield { end: Math.min(start + per_shard, total), start };
    }
  },
  at: ({ total, per_shard }, i) => ({ end: Math.min((i + 1) * per_shard, total), start: i * per_shard }),
};

/** Built-in partitioners with `at`, by the name a batch task gives (they load in any thread). */
export const workerPartitioners: Readonly<Record<string, Partitioner<Record<string, unknown>>>> = {
  by_range: byRange as unknown as Partitioner<Record<string, unknown>>,
};

/** The name under which a shard worker finds this partitioner, if it can rebuild its inputs. */
export function workerPartitionerName(p: Partitioner<Record<string, unknown>>): string | undefined {
  if (!p.at) return undefined;
  return Object.keys(workerPartitioners).find((name) => workerPartitioners[name] === p);
}
