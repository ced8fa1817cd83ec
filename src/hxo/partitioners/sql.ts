/**
 * PostgreSQL for the `deploy.migrate` kind: connections from a URL
 * (`database_url` in the stage config, else `DATABASE_URL`), quoted
 * identifiers, and row counts for `by_sql_batch`.
 */
import type pg from 'pg';
import { PlanError } from '../engine-errors.ts';

/** `name` or `schema.name`: letters, digits, `_`. Anything else could be SQL. */
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

export function quoteIdent(name: string, field: string): string {
  if (!IDENT.test(name)) throw new PlanError(field, `"${name}" is not a plain SQL name (letters, digits, _; optionally schema.name)`);
  return name
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
}

export function databaseUrl(config: { database_url?: unknown }): string {
  const url = typeof config.database_url === 'string' ? config.database_url : process.env.DATABASE_URL;
  if (!url) throw new PlanError('config.database_url', 'no database: set config.database_url or DATABASE_URL');
  return url;
}

/** Runs `fn` with a connected client, closed afterwards. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  // Loaded on first use: every thread imports the partitioners, few talk to a database.
  const { default: driver } = await import('pg');
  const client = new driver.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function rowCount(url: string, table: string): Promise<number> {
  const quoted = quoteIdent(table, 'config.table');
  try {
    return await withClient(url, async (c) => Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoted}`)).rows[0]?.n ?? 0));
  } catch (err) {
    if (err instanceof PlanError) throw err;
    throw new PlanError('config.table', `cannot count the rows of ${table}: ${(err as Error).message}`);
  }
}
