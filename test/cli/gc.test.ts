/**
 * `xyn gc` and `xyn compact` as a user runs them, on a data dir with real
 * plans: what gc says it frees is what goes, collected plans keep their
 * reports, kept plans stay whole; the store file shrinks on compaction; a
 * process SIGKILLed in the middle of either leaves a store that opens, in
 * which every kept plan passes `xyn replay`'s check, and the next run
 * finishes the job.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GcReport } from '../../src/hxo/retention/retention.ts';
import type { PlanRecord } from '../../src/hxo/checkpoints/plan-records.ts';
import type { PlanReport } from '../../src/hxo/report.ts';
import { openStore } from '../../src/store/env.ts';
import { verifyReport } from '../../src/hxo/certify/verify-report.ts';
import { tempDir, waitFor } from '../kernel/helpers.ts';
import { startXyn, xynSync } from '../helpers/cli.ts';
import { BLUEPRINTS, computeHashPlan, startNode } from '../hxo/helpers.ts';

const dirs: { cleanup: () => void }[] = [];
afterAll(() => dirs.forEach((d) => d.cleanup()));

/** A data dir with `count` ended plans of `shards` each (oldest first), made in-process. */
async function dataDirWithPlans(count: number, shards: number): Promise<{ data: string; ids: string[] }> {
  const d = tempDir();
  dirs.push(d);
  const n = await startNode({}, d.path);
  const ids: string[] = [];
  try {
    for (let p = 0; p < count; p++) {
      // Another per_shard each time: nothing reused, every plan has its own checkpoints.
      const { planId, finished } = await n.engine.submit(computeHashPlan(`gc-${p}`, shards, { config: { total: shards * (p + 1), per_shard: p + 1, rounds: 1 } }), { baseDir: BLUEPRINTS });
      expect((await finished).state).toBe('certified');
      ids.push(planId);
    }
  } finally {
    await n.close();
  }
  return { data: d.path, ids };
}

const keep2 = { XYN_RETAIN_PLANS: '2', XYN_RETAIN_DAYS: '0' };

function replayCheck(data: string, planId: string): void {
  const r = xynSync(['replay', planId, '--data', data, '--json']);
  expect(r.stderr).toBe('xyn: nothing to replay\n');
  expect(r.status).toBe(0);
}

/** The plan records as another process (the test) reads them: LMDB lets readers in beside the lock holder. */
function records(data: string): PlanRecord[] {
  const store = openStore({ path: join(data, 'store') });
  return [...store.db<string, PlanRecord>('plans').getRange({})].map(({ value }) => value);
}

describe('xyn gc and xyn compact', () => {
  let data: string;
  let ids: string[];
  beforeAll(async () => {
    ({ data, ids } = await dataDirWithPlans(5, 10_000));
  }, 120_000);

  it('a dry run lists what would go and changes nothing; gc collects exactly that; reports stay; kept plans are whole; compact shrinks the file', () => {
    const dry = xynSync(['gc', '--data', data, '--dry-run', '--json'], keep2);
    expect(dry.status).toBe(0);
    const would = JSON.parse(dry.stdout) as GcReport;
    expect(would.plans.map((p) => p.plan_id).sort()).toEqual(ids.slice(0, 3).sort());
    expect(would.plans.every((p) => p.shards === 10_000 && p.reason === 'beyond the last 2 plans')).toBe(true);
    expect(records(data).some((r) => r.collected_at)).toBe(false);

    const r = xynSync(['gc', '--data', data, '--json'], keep2);
    expect(r.status).toBe(0);
    const did = JSON.parse(r.stdout) as GcReport;
    expect(did.plans.map((p) => [p.plan_id, p.shards])).toEqual(would.plans.map((p) => [p.plan_id, p.shards]));
    expect(did.checkpoint_bytes).toBe(would.checkpoint_bytes);

    const old = ids[0] as string;
    const report = xynSync(['report', old, '--data', data, '--json']);
    expect(report.status).toBe(0);
    expect(verifyReport(JSON.parse(report.stdout) as PlanReport).ok).toBe(true);
    const replayOld = xynSync(['replay', old, '--data', data]);
    expect(replayOld.status).toBe(2);
    expect(replayOld.stderr).toMatch(/collected by retention/);
    for (const kept of ids.slice(3)) replayCheck(data, kept);
    expect(xynSync(['gc', '--data', data, '--json'], keep2).stdout).toMatch(/"plans": \[\]/);

    const before = statSync(join(data, 'store', 'data.mdb')).size;
    const c = xynSync(['compact', '--data', data, '--json']);
    expect(c.status).toBe(0);
    const sizes = JSON.parse(c.stdout) as { before: number; after: number };
    expect(sizes.before).toBe(before);
    expect(sizes.after).toBeLessThan(before * 0.75);
    expect(statSync(join(data, 'store', 'data.mdb')).size).toBe(sizes.after);
    for (const kept of ids.slice(3)) replayCheck(data, kept);
  }, 240_000);

  it('SIGKILL in the middle of gc: the store opens, kept plans pass the replay check, the next gc finishes', async () => {
    const big = await dataDirWithPlans(4, 200_000);
    const child = startXyn(['gc', '--data', big.data], keep2);
    // Killed once it has begun collecting (a plan says so), before it ends (thousands of blocks, a chunk per transaction).
    await waitFor(() => child.done() || records(big.data).some((r) => r.collecting), 60_000, 'gc to begin collecting');
    child.kill();
    const outcome = await child.exited;
    expect(outcome.signal).toBe('SIGKILL');
    expect(records(big.data).filter((r) => r.collected_at).length).toBeLessThan(2);
    for (const kept of big.ids.slice(2)) replayCheck(big.data, kept);
    const again = JSON.parse(xynSync(['gc', '--data', big.data, '--json'], keep2).stdout) as GcReport;
    const done = records(big.data);
    expect(done.filter((r) => r.collected_at).map((r) => r.plan_id).sort()).toEqual(big.ids.slice(0, 2).sort());
    expect(done.some((r) => r.collecting)).toBe(false);
    expect(again.plans.length).toBeLessThanOrEqual(2);
  }, 240_000);

  it('SIGKILL in the middle of compact: the store opens whole, kept plans pass the replay check, the next compact completes', async () => {
    const big = await dataDirWithPlans(3, 200_000);
    expect(xynSync(['gc', '--data', big.data], keep2).status).toBe(0);
    const copy = join(big.data, 'store.compact', 'data.mdb');
    const child = startXyn(['compact', '--data', big.data]);
    await waitFor(() => child.done() || existsSync(copy), 60_000, 'the compacting copy to begin');
    child.kill();
    expect((await child.exited).signal).toBe('SIGKILL');
    for (const kept of big.ids.slice(1)) replayCheck(big.data, kept);
    const c = xynSync(['compact', '--data', big.data, '--json']);
    expect(c.status).toBe(0);
    expect(existsSync(copy)).toBe(false);
    for (const kept of big.ids.slice(1)) replayCheck(big.data, kept);
  }, 240_000);
});
