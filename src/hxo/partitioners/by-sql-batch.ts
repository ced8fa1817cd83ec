/** `by_sql_batch`: a database table's rows in batches (deploy.migrate). */
import { z } from 'zod';
import type { Partitioner } from './partitioner.ts';
import { databaseUrl, rowCount } from './sql.ts';

const sqlBatchConfig = z.object({
  table: z.string().min(1),
  batch_size: z.number().int().positive().default(1000),
  database_url: z.string().optional(),
  stage_kind: z.string().default(''),
});

/** A batch of rows: seed 002's `deploy.migrate` input. */
export interface SqlBatchShard {
  batch_id: number;
  limit: number;
  offset: number;
  stage_kind: string;
}

/**
 * `by_sql_batch`: the rows of `table` (counted in the database when the plan
 * is resolved) in batches of `batch_size`: `{batch_id, offset, limit}`. The
 * row count is part of the plan's identity: a table with other rows than
 * when a plan over it ran is a new plan (its rows migrated anew), never the
 * old plan's report.
 */
export const bySqlBatch: Partitioner<z.infer<typeof sqlBatchConfig>> = {
  name: 'by_sql_batch',
  config: sqlBatchConfig,
  count: async (config) => {
    const rows = await rowCount(databaseUrl(config), config.table);
    return { shards: Math.ceil(rows / config.batch_size), inputs: `rows:${rows}` };
  },
  *shards(config, count) {
    for (let batch_id = 0; batch_id < count; batch_id++) {
      yield { batch_id, limit: config.batch_size, offset: batch_id * config.batch_size, stage_kind: config.stage_kind } satisfies SqlBatchShard;
    }
  },
};
