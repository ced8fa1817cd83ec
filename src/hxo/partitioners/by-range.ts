/**
 * `by_range`, the partitioner with random access: shard i is computed on its
 * own (`at`), so a shard worker makes a batch's inputs from their indexes
 * (worker-partitioners.ts) and can split a hot shard's range (auto-tuning).
 */
import { z } from 'zod';
import { erased, type Partitioner } from './partitioner.ts';
import { rangeAt, splitRange } from './worker-partitioners.ts';

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
  at: rangeAt,
  split: (_config, input, factor) => splitRange(input as { start: number; end: number }, factor),
};

/** The name under which a shard worker finds this partitioner (worker-partitioners.ts), if it can rebuild its inputs. */
export function workerPartitionerName(p: Partitioner): string | undefined {
  return p === erased(byRange) ? 'by_range' : undefined;
}
