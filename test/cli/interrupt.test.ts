/**
 * Ctrl-C under `xyn run`, sent to a real child process while its plan runs:
 * one line on stderr says the plan stopped, how far it got and how to go on,
 * exit code 130; the same command then finishes the plan from its
 * checkpoints with the root the spec gives.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PlanReport, PlanStatus } from '../../src/hxo/report.ts';
import { openStore } from '../../src/store/env.ts';
import { checkpointDb } from '../../src/hxo/checkpoints/checkpoint-records.ts';
import { tempDir, waitFor } from '../kernel/helpers.ts';
import { startXyn, xynSync } from '../helpers/cli.ts';
import { computeHashPlan, specComputeHashRoot } from '../hxo/helpers.ts';

const SHARDS = 20_000;
const ROUNDS = 200;
const dir = tempDir();
afterAll(() => dir.cleanup());

describe('xyn run and Ctrl-C', () => {
  it('stops with one line and exit 130; the same command then certifies the plan with the right root', async () => {
    const planFile = join(dir.path, 'plan.json');
    const data = join(dir.path, 'data');
    writeFileSync(planFile, JSON.stringify(computeHashPlan('interrupted', SHARDS, { config: { total: SHARDS, per_shard: 1, rounds: ROUNDS } })));
    const child = startXyn(['run', planFile, '--data', data, '--json']);
    await waitFor(() => existsSync(join(data, 'store', 'data.mdb')), 30_000, 'the store');
    const store = openStore({ path: join(data, 'store') });
    try {
      // Interrupted once it has checkpointed some shards, well before its end.
      await waitFor(() => (checkpointDb(store).getStats() as { entryCount: number }).entryCount >= 2, 30_000, 'checkpoints');
    } finally {
      await store.close();
    }
    expect(child.done()).toBe(false);
    process.kill(child.pid, 'SIGINT');
    const stopped = await child.exited;
    expect(stopped.stdout).toBe('');
    expect(stopped.code, stopped.stderr).toBe(130);
    const lines = stopped.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const said = /^xyn: interrupted: plan (\S+) stopped with (\d+) of 20000 shards done; run the same command again \(or `xyn resume (\S+) --data (\S+)`\) to go on from its checkpoints$/.exec(lines[0] as string);
    expect(said, lines[0]).not.toBeNull();
    const [, planId, done, resumeId, resumeData] = said as RegExpExecArray;
    expect([resumeId, resumeData]).toEqual([planId, data]);
    expect(Number(done)).toBeGreaterThan(0);
    expect(Number(done)).toBeLessThan(SHARDS);
    // What it said is what its checkpoints hold.
    const status = JSON.parse(xynSync(['status', planId as string, '--data', data, '--json']).stdout) as PlanStatus;
    expect(status).toMatchObject({ state: 'unfinished', done_shards: Number(done), failed_shards: 0 });

    const again = xynSync(['run', planFile, '--data', data, '--json']);
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
    const report = JSON.parse(again.stdout) as PlanReport;
    expect(report).toMatchObject({ plan_id: planId, state: 'certified', truth_certified: true, done_shards: SHARDS, failed_shards: 0 });
    expect(report.merkle_root).toBe(specComputeHashRoot(SHARDS, ROUNDS));
  }, 120_000);
});
