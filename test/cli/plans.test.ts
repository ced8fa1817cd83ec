/**
 * `xyn plans`, `xyn resume`, `xyn run --resume`, `xyn outputs` and
 * `xyn artifact get` on a data dir, from source in child processes, as a
 * user runs them: a plan killed midway or aborted is listed, resumed, and
 * certified with the root of an uninterrupted run (recomputed here from the
 * spec); every refusal is exit 2 with one line naming the plan and why, and
 * writes nothing; outputs are the spec's, in leaf order.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalEncode } from '../../src/core/canonical.ts';
import { decode } from '../../src/core/codec.ts';
import { checkpointDb } from '../../src/hxo/checkpoints/checkpoint-records.ts';
import { merkleRoot } from '../../src/hxo/certify/merkle.ts';
import { readPlanFile } from '../../src/hxo/plan/plan.ts';
import type { PlanSummary } from '../../src/hxo/plan-list.ts';
import type { OutputRow } from '../../src/hxo/plan-outputs.ts';
import type { PlanReport } from '../../src/hxo/report.ts';
import { openStore, type Store } from '../../src/store/env.ts';
import { tempDir, waitFor } from '../kernel/helpers.ts';
import { REPO_ROOT, cliEnv, startXyn, xynSync } from '../helpers/cli.ts';
import { flakyPlan, specCasId, specComputeHashShard, specLeaf, startNode } from '../hxo/helpers.ts';

const BLUEPRINT = join(REPO_ROOT, 'blueprints/compute-hash-1k.yaml');
const xyn = (args: string[]) => xynSync(args, {}, 120_000);

const dir = tempDir();
const data = join(dir.path, 'data');
let report1k: PlanReport;
const stores: Store[] = [];

beforeAll(() => {
  const r = xyn(['run', BLUEPRINT, '--data', data, '--json']);
  expect(r.status, r.stderr).toBe(0);
  report1k = JSON.parse(r.stdout) as PlanReport;
}, 120_000);
afterAll(async () => {
  for (const s of stores) await s.close();
  dir.cleanup();
});

/** The root of a test.flaky `slow` plan of `count` shards (output = input {i}), from the spec. */
function specSlowRoot(count: number): string {
  const leaves = new Uint8Array(count * 32);
  for (let i = 0; i < count; i++) leaves.set(specLeaf(specCasId('test.flaky', 'slow', { i }), { i }).leaf, i * 32);
  return merkleRoot(leaves).toString('hex');
}

function planFile(name: string, plan: Record<string, unknown>): string {
  const file = join(dir.path, `${name}.json`);
  writeFileSync(file, JSON.stringify(plan));
  return file;
}

const plans = (dataDir: string): PlanSummary[] => {
  const r = xyn(['plans', '--data', dataDir, '--json']);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PlanSummary[];
};

/** One line on stderr, exit 2, nothing on stdout. */
function expectRefusal(r: { status: number | null; stdout: string; stderr: string }, line: string | RegExp): void {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n') && r.stderr.trimEnd().split('\n').length === 1).toBe(true);
  if (typeof line === 'string') expect(r.stderr).toBe(`${line}\n`);
  else expect(r.stderr).toMatch(line);
}

describe('xyn run --resume', () => {
  it('refuses an id that is no plan of the data dir, or not the plan in FILE, and writes nothing; the right one resumes', () => {
    expectRefusal(xyn(['run', BLUEPRINT, '--data', data, '--resume', 'made-up']), `xyn: no plan made-up in ${data}`);
    const other = planFile('other', { name: 'other', stages: [{ id: 'hash', kind: 'compute.hash', partitioner: 'by_range', executor: 'hash', config: { total: 10, per_shard: 1, rounds: 1 } }] });
    expectRefusal(xyn(['run', other, '--data', data, '--resume', report1k.plan_id]), `xyn: plan ${report1k.plan_id} is compute-hash-1k, not the plan in ${other} (its digest differs)`);
    expect(plans(data).map((p) => p.plan_id)).toEqual([report1k.plan_id]);
    const fresh = join(dir.path, 'fresh');
    expectRefusal(xyn(['run', BLUEPRINT, '--data', fresh, '--resume', report1k.plan_id]), `xyn: no plan ${report1k.plan_id} in ${fresh}`);
    expect(existsSync(fresh)).toBe(false);

    const same = xyn(['run', BLUEPRINT, '--data', data, '--resume', report1k.plan_id, '--json']);
    expect(same.status, same.stderr).toBe(0);
    expect(JSON.parse(same.stdout)).toEqual(report1k);
  });
});

describe('xyn plans and xyn resume', () => {
  it('a plan killed midway is listed unfinished with its progress; xyn resume certifies it with the uninterrupted root', async () => {
    const count = 5000;
    const killed = join(dir.path, 'killed');
    const file = planFile('killed', flakyPlan('cli-killed', 'slow', count, {}, { ms: 3 }));
    const child = startXyn(['run', file, '--data', killed, '--json']);
    let store: Store | undefined;
    await waitFor(
      () => {
        if (child.done()) throw new Error('the run ended before it could be killed');
        if (!store && existsSync(join(killed, 'store', 'data.mdb'))) stores.push((store = openStore({ path: join(killed, 'store') })));
        return store !== undefined && checkpointDb(store).getKeysCount() > 0;
      },
      60_000,
      'the run to checkpoint shards',
    );
    child.kill();
    expect((await child.exited).signal).toBe('SIGKILL');

    const [listed] = plans(killed);
    expect(listed).toMatchObject({ plan_name: 'cli-killed', state: 'unfinished', total_shards: count, failed_shards: 0, finished_at: null });
    const { plan_id: planId, done_shards: doneBefore } = listed as PlanSummary;
    expect(doneBefore).toBeGreaterThan(0);
    expect(doneBefore).toBeLessThan(count);
    const text = xyn(['plans', '--data', killed]);
    expect(text.stdout).toMatch(new RegExp(`^${planId}  cli-killed +unfinished +${doneBefore}/${count} done, 0 failed +created \\S+\\n$`));

    const resumed = xyn(['resume', planId, '--data', killed, '--json']);
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    const report = JSON.parse(resumed.stdout) as PlanReport;
    expect(report).toMatchObject({ plan_id: planId, state: 'certified', total_shards: count, done_shards: count, failed_shards: 0 });
    expect(report.merkle_root).toBe(specSlowRoot(count));
    expect(plans(killed)).toMatchObject([{ plan_id: planId, state: 'certified', done_shards: count, finished_at: report.finished_at }]);
    expectRefusal(xyn(['resume', planId, '--data', killed]), new RegExp(`^xyn: plan ${planId} cannot be resumed: it is already certified`));
  }, 180_000);

  it('an aborted plan run again: its report and a hint on stderr; xyn resume and xyn run --resume continue it; newest first in xyn plans', async () => {
    const count = 3000;
    const aborted = join(dir.path, 'aborted');
    const files = ['cli-aborted-1', 'cli-aborted-2'].map((name) => planFile(name, flakyPlan(name, 'slow', count, {}, { ms: 2 })));
    const node = await startNode({}, aborted);
    const ids: string[] = [];
    try {
      for (const file of files) {
        const submitted = await node.engine.submit(readPlanFile(file), { baseDir: dirname(file) });
        ids.push(submitted.planId);
        await waitFor(() => node.engine.status(submitted.planId).done_shards > 0, 60_000, 'shards done');
        expect(node.engine.abort(submitted.planId)).toBe(true);
        expect((await submitted.finished).state).toBe('aborted');
      }
    } finally {
      await node.close();
    }
    const [first, second] = ids as [string, string];
    const listed = plans(aborted);
    expect(listed.map((p) => [p.plan_id, p.state])).toEqual([
      [second, 'aborted'],
      [first, 'aborted'],
    ]);
    expect((listed[1] as PlanSummary).done_shards).toBeLessThan(count);

    const again = xyn(['run', files[0] as string, '--data', aborted]);
    expect(again.status).toBe(1);
    expect(again.stdout).toContain(`plan cli-aborted-1 (${first}): aborted — aborted by local`);
    expect(again.stderr).toBe(`xyn: plan ${first} was aborted; continue it with \`xyn resume ${first} --data ${aborted}\`\n`);

    const resumed = xyn(['resume', first, '--data', aborted, '--json']);
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ plan_id: first, state: 'certified', done_shards: count, merkle_root: specSlowRoot(count) });

    const viaRun = xyn(['run', files[1] as string, '--data', aborted, '--resume', second, '--json']);
    expect(viaRun.stderr).toBe('');
    expect(viaRun.status).toBe(0);
    expect(JSON.parse(viaRun.stdout)).toMatchObject({ plan_id: second, state: 'certified', done_shards: count });
    expect(plans(aborted).map((p) => p.state)).toEqual(['certified', 'certified']);
  }, 180_000);

  it('refuses a failed plan (pointing at xyn replay --failed) and an unknown one; an empty data dir lists nothing', () => {
    const failing = join(dir.path, 'failing');
    const r = xyn(['run', planFile('cli-failed', flakyPlan('cli-failed', 'throws', 2, { retries: 0 })), '--data', failing, '--json']);
    expect(r.status).toBe(1);
    const planId = (JSON.parse(r.stdout) as PlanReport).plan_id;
    expectRefusal(xyn(['resume', planId, '--data', failing]), `xyn: plan ${planId} cannot be resumed: it failed: 2 shard(s) failed for good; run them again with \`xyn replay ${planId} --failed\``);
    expectRefusal(xyn(['resume', 'no-such-plan', '--data', failing]), `xyn: no plan no-such-plan in ${failing}`);
    const empty = join(dir.path, 'empty');
    expect(xyn(['plans', '--data', empty])).toMatchObject({ status: 0, stdout: '' });
    expect(plans(empty)).toEqual([]);
    expect(existsSync(empty)).toBe(false);
  }, 60_000);
});

describe('xyn outputs and xyn artifact get', () => {
  it("prints a plan's outputs as JSON lines in leaf order, each the spec's; --stage filters; unknown stage or plan is exit 2", () => {
    const r = xyn(['outputs', report1k.plan_id, '--data', data]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rows = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as OutputRow);
    expect(rows).toHaveLength(1000);
    rows.forEach((row, i) => {
      const spec = specComputeHashShard(i);
      const digest = createHash('sha256').update(canonicalEncode({ end: i + 1, start: i })).digest('hex');
      expect(row).toEqual({ stage_id: 'hash', shard_index: i, leaf_index: i, cas_id: spec.cas_id, output: { digest }, output_digest: spec.output_digest });
      expect(createHash('sha256').update(canonicalEncode(row.output)).digest('hex')).toBe(row.output_digest);
    });
    expect(xyn(['outputs', report1k.plan_id, '--data', data, '--stage', 'hash']).stdout).toBe(r.stdout);
    expectRefusal(xyn(['outputs', report1k.plan_id, '--data', data, '--stage', 'nope']), 'xyn: plan compute-hash-1k has no stage "nope"; its stages: hash');
    expectRefusal(xyn(['outputs', 'no-such-plan', '--data', data]), 'xyn: no plan no-such-plan in this data directory');
  });

  it("writes an artifact's bytes to stdout by sha256; a malformed or unknown one is exit 2", () => {
    const site = join(dir.path, 'site');
    mkdirSync(site);
    writeFileSync(join(site, 'index.md'), '# Artifacts\n\nBytes by sha256.\n');
    writeFileSync(join(site, 'routes.json'), JSON.stringify({ '/': 'index.md' }));
    const file = join(dir.path, 'docs.yaml');
    writeFileSync(file, 'name: cli-docs\nstages:\n  - id: docs\n    kind: docs.index\n    partitioner: by_route_map\n    executor: docs_index\n    config: {root: site}\n');
    const docsData = join(dir.path, 'docs-data');
    const run = xyn(['run', file, '--data', docsData, '--json']);
    expect(run.status, run.stderr).toBe(0);
    const planId = (JSON.parse(run.stdout) as PlanReport).plan_id;
    const [row] = xyn(['outputs', planId, '--data', docsData]).stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as OutputRow);
    const sha = ((row as OutputRow).output as { index: string }).index;

    const got = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'artifact', 'get', sha, '--data', docsData], { cwd: REPO_ROOT, env: cliEnv(), encoding: 'buffer' });
    expect(got.stderr.toString()).toBe('');
    expect(got.status).toBe(0);
    expect(createHash('sha256').update(got.stdout).digest('hex')).toBe(sha);
    expect(decode(got.stdout)).toMatchObject({ route: '/', file: 'index.md', title: 'Artifacts', words: 4 });

    expectRefusal(xyn(['artifact', 'get', 'abc', '--data', docsData]), 'xyn: an artifact is named by its sha256: 64 hex digits, got "abc"');
    expectRefusal(xyn(['artifact', 'get', '0'.repeat(64), '--data', docsData]), `xyn: no artifact ${'0'.repeat(64)} in ${docsData}`);
  }, 60_000);
});
