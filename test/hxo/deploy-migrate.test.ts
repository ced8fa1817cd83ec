/**
 * `deploy.migrate` (seed 002) against a real PostgreSQL started for the test:
 * the safety contract (non_idempotent on the stage, hxo:force-merge for the
 * caller, no blind retries, no apply before a dry run of the same plan), a
 * dry run that changes nothing and reports what would change, and an apply
 * that changes exactly that.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PlanError } from '../../src/hxo/engine-errors.ts';
import { planIdFor } from '../../src/hxo/plan/plan.ts';
import type { MigrateOutput } from '../../src/hxo/executors/migrate.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { BLUEPRINTS, runForOutputs, startNode, type TestNode } from './helpers.ts';

const ROWS = 2500;
let db: TestPostgres;
let node: TestNode;

async function query<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  db = await startPostgres();
  await query('CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL)');
  // Every third address has capitals: those are what the migration changes.
  await query(`INSERT INTO users (email) SELECT CASE WHEN g % 3 = 0 THEN 'User' || g || '@Example.COM' ELSE 'user' || g || '@example.com' END FROM generate_series(1, ${ROWS}) g`);
  node = await startNode();
}, 120_000);
afterAll(async () => {
  await node?.close();
  await db?.stop();
});

function plan(extra: Record<string, unknown> = {}, stage: Record<string, unknown> = {}) {
  return {
    name: 'lowercase-emails',
    ...extra,
    stages: [
      {
        id: 'lower',
        kind: 'deploy.migrate',
        partitioner: 'by_sql_batch',
        executor: 'sql_migrate',
        non_idempotent: true,
        config: { table: 'users', batch_size: 1000, set: 'email = lower(email)', database_url: db.url },
        ...stage,
      },
    ],
  };
}

async function refusal(raw: unknown, capabilities?: ReadonlySet<string>): Promise<string> {
  const err = await (capabilities ? node.engine.prepare(raw, BLUEPRINTS, capabilities) : node.engine.submit(raw, { baseDir: BLUEPRINTS })).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PlanError);
  return (err as Error).message;
}

const capitals = async () => Number((await query<{ n: string }>("SELECT count(*) AS n FROM users WHERE email <> lower(email)"))[0]?.n);

describe('deploy.migrate', () => {
  it('refuses what the safety policy forbids, naming the rule', async () => {
    expect(await refusal(plan({}, { non_idempotent: undefined }))).toBe('stages[0].non_idempotent: deploy.migrate is non-idempotent: the stage must say non_idempotent: true');
    expect(await refusal(plan(), new Set(['hxo:submit']))).toBe('stages[0].non_idempotent: non-idempotent work needs the hxo:force-merge capability');
    expect(await refusal(plan({}, { retries: 2 }))).toBe('stages[0].retries: a non-idempotent stage is never retried blindly: retries must be 0');
    expect(await refusal(plan())).toBe('dry_run: deploy.migrate requires a successful dry run of this plan first: submit it with dry_run: true');
    expect(await refusal(plan({}, { config: { table: 'users; DROP TABLE users', set: 'x = 1', database_url: db.url } }))).toMatch(/^stages\[0\]\.config\.table: "users; DROP TABLE users" is not a plain SQL name/);
    expect(node.engine.list()).toEqual([]);
  });

  it('a dry run changes nothing and reports what would change; the apply then changes exactly that', async () => {
    const before = await capitals();
    expect(before).toBe(Math.floor(ROWS / 3));

    const dry = await runForOutputs(node, plan({ dry_run: true }), BLUEPRINTS, (o) => o as MigrateOutput);
    expect(dry.report).toMatchObject({ state: 'certified', total_shards: 3, reused_shards: 0 });
    const dryOut = dry.outputs;
    expect(dryOut.map((o) => [o.status, o.batch_id, o.rows_affected])).toEqual([
      ['dry_run', 0, 1000],
      ['dry_run', 1, 1000],
      ['dry_run', 2, 500],
    ]);
    expect(await capitals()).toBe(before);

    const apply = await runForOutputs(node, plan(), BLUEPRINTS, (o) => o as MigrateOutput);
    expect(apply.planId).not.toBe(dry.planId);
    expect(apply.report).toMatchObject({ state: 'certified', total_shards: 3, reused_shards: 0 });
    const out = apply.outputs;
    expect(out.map((o) => o.status)).toEqual(['migrated', 'migrated', 'migrated']);
    expect(out.map((o) => o.rows_affected)).toEqual(dryOut.map((o) => o.rows_affected));
    expect(await capitals()).toBe(0);
    expect((await query<{ n: string }>('SELECT count(*) AS n FROM users'))[0]?.n).toBe(String(ROWS));
  });

  it('a table with other rows is a new plan, its rows migrated anew — never the old plan\'s report', async () => {
    const before = await node.engine.prepare(plan(), BLUEPRINTS);
    expect(node.engine.status(planIdFor(before.digest)).state).toBe('certified');
    // Two rows more: still three batches, but not the table the plan ran over.
    await query("INSERT INTO users (email) VALUES ('New1@Example.COM'), ('New2@Example.COM')");
    const after = await node.engine.prepare(plan(), BLUEPRINTS);
    expect(after.totalShards).toBe(before.totalShards);
    expect(after.digest).not.toBe(before.digest);

    await runForOutputs(node, plan({ dry_run: true }), BLUEPRINTS, (o) => o as MigrateOutput);
    const again = await runForOutputs(node, plan(), BLUEPRINTS, (o) => o as MigrateOutput);
    expect(again.planId).toBe(planIdFor(after.digest));
    expect(again.outputs.map((o) => o.status)).toEqual(['migrated', 'migrated', 'migrated']);
    expect(await capitals()).toBe(0);
  });
});
