/**
 * Built-in partitioners with random access: shard workers make inputs with
 * `at(config, i)`, the plan actor counts with `count` and the spec is
 * `shards(config)`. All three must agree, or leaves land in the wrong place.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { byRange, workerPartitionerName } from '../../src/hxo/partitioners/by-range.ts';
import { bySqlBatch } from '../../src/hxo/partitioners/by-sql-batch.ts';
import { workerPartitioners } from '../../src/hxo/partitioners/worker-partitioners.ts';

describe('partitioners with random access', () => {
  it('by_range: at(i) is the i-th of shards(), for every i < count(), in the plan actor and in the workers', () => {
    const p = byRange;
    const inWorker = workerPartitioners.by_range as (typeof workerPartitioners)['by_range'] & object;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 700 }), (total, per_shard) => {
        const config = p.config.parse({ total, per_shard });
        const all = [...p.shards(config, p.count(config) as number)];
        expect(all).toHaveLength(p.count(config) as number);
        all.forEach((input, i) => {
          expect(p.at?.(config, i)).toEqual(input);
          expect(inWorker.at(config, i)).toEqual(input);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('names only the built-in objects themselves (a user partitioner of the same name makes no inputs in workers)', () => {
    expect(workerPartitionerName(byRange as never)).toBe('by_range');
    expect(workerPartitionerName({ ...byRange } as never)).toBeUndefined();
    expect(workerPartitionerName({ ...byRange, at: undefined } as never)).toBeUndefined();
  });
});

describe('by_sql_batch', () => {
  it('makes the batches of the count the plan was resolved with, from any config object (no count() on it first)', () => {
    const config = bySqlBatch.config.parse({ database_url: 'postgres://127.0.0.1:1/none', table: 'items', batch_size: 10, stage_kind: 'deploy.migrate' });
    expect([...bySqlBatch.shards({ ...config }, 3)]).toEqual([
      { batch_id: 0, limit: 10, offset: 0, stage_kind: 'deploy.migrate' },
      { batch_id: 1, limit: 10, offset: 10, stage_kind: 'deploy.migrate' },
      { batch_id: 2, limit: 10, offset: 20, stage_kind: 'deploy.migrate' },
    ]);
    expect([...bySqlBatch.shards(config, 0)]).toEqual([]);
  });
});
