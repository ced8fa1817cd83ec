/**
 * The executor of the built-in `deploy.migrate` kind (seed 002), run in the pool.
 *
 * `sql_migrate` applies one batch of a migration to PostgreSQL:
 *   UPDATE table SET <set> WHERE key IN (SELECT key FROM table ORDER BY key OFFSET $1 LIMIT $2)
 * in a transaction of its own — committed, or, for a plan with
 * `dry_run: true`, rolled back after counting what it would change.
 * Output: `{status: 'migrated' | 'dry_run', batch_id, rows_affected}`.
 */
import { databaseUrl, quoteIdent, withClient } from '../partitioners/sql.ts';
import type { SqlBatchShard } from '../partitioners/by-sql-batch.ts';

export interface MigrateOutput {
  status: 'migrated' | 'dry_run';
  batch_id: number;
  rows_affected: number;
}

export const executors = {
  async sql_migrate(input: unknown, config: Record<string, unknown>): Promise<MigrateOutput> {
    const { batch_id, offset, limit } = input as SqlBatchShard;
    const table = quoteIdent(String(config.table), 'config.table');
    const key = quoteIdent(String(config.key ?? 'id'), 'config.key');
    const dryRun = config.dry_run === true;
    const sql = `UPDATE ${table} SET ${String(config.set)} WHERE ${key} IN (SELECT ${key} FROM ${table} ORDER BY ${key} OFFSET $1 LIMIT $2)`;
    return withClient(databaseUrl(config), async (client) => {
      await client.query('BEGIN');
      try {
        const result = await client.query(sql, [offset, limit]);
        await client.query(dryRun ? 'ROLLBACK' : 'COMMIT');
        return { status: dryRun ? 'dry_run' : 'migrated', batch_id, rows_affected: result.rowCount ?? 0 };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
    });
  },
};
