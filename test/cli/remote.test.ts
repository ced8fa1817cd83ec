/**
 * A node as a user runs one: `xyn serve` (its first start prints an admiral
 * token, once), `xyn token create|list|revoke` on its data dir while it runs,
 * and `xyn submit|status|report|abort` talking to its API: exit 0 on success,
 * 2 for what the node refuses (401/403/409), 1 with no node at the URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { PlanReport, PlanStatus } from '../../src/hxo/report.ts';
import type { PlanSummary } from '../../src/hxo/plan-list.ts';
import type { OutputRow } from '../../src/hxo/plan-outputs.ts';
import { tempDir, waitFor } from '../kernel/helpers.ts';
import { REPO_ROOT, cliEnv, startServe, xynSync, type Serving } from '../helpers/cli.ts';
import { flakyPlan, specComputeHashRoot, specComputeHashShard } from '../hxo/helpers.ts';

const dir = tempDir();
const data = join(dir.path, 'data');
let serve: Serving;
let url = '';
let admiral = '';
/** The plans here read files (a stage's config.root) from the test's temp dir: the node must allow it. */
const env = { XYN_INPUT_DIRS: dir.path };

beforeAll(async () => {
  serve = await startServe(data, 0, env);
  admiral = (/\n(xyn_[A-Za-z0-9_-]{43})\n/.exec(serve.stderr()) as RegExpExecArray)[1] as string;
  url = serve.url;
}, 60_000);
afterAll(async () => {
  if (serve.child.exitCode === null) await serve.stop();
  dir.cleanup();
});

describe('xyn serve, token and the remote commands', () => {
  it('submit --wait runs a plan on the node; status and report read it back; refusals exit 2', () => {
    const submitted = xynSync(['submit', 'blueprints/compute-hash-1k.yaml', '--url', url, '--token', admiral, '--wait', '--json']);
    expect(submitted.status, submitted.stderr).toBe(0);
    const report = JSON.parse(submitted.stdout) as PlanReport;
    expect(report.state).toBe('certified');
    expect(report.merkle_root).toBe(specComputeHashRoot(1000));

    // While the node runs, tokens are made through it (it audits the change in its log).
    const behindItsBack = xynSync(['token', 'create', '--role', 'captain', '--data', data]);
    expect(behindItsBack.status).toBe(2);
    expect(behindItsBack.stderr).toMatch(/data dir .* is in use by pid \d+ \(xyn serve on http:\/\/127\.0\.0\.1:\d+\): change its tokens through it, with --url http/);
    const captain = xynSync(['token', 'create', '--role', 'captain', '--principal', 'cap', '--url', url, '--token', admiral]);
    expect(captain.status, captain.stderr).toBe(0);
    expect(captain.stdout).toMatch(/^xyn_[A-Za-z0-9_-]{43}\n$/);
    const token = captain.stdout.trim();

    const status = xynSync(['status', report.plan_id, '--url', url, '--token', token, '--json']);
    expect(status.status, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as PlanStatus).truth_certified).toBe(true);
    const fetched = xynSync(['report', report.plan_id, '--url', url, '--token', token, '--json']);
    expect((JSON.parse(fetched.stdout) as PlanReport).merkle_root).toBe(report.merkle_root);

    const forbidden = xynSync(['submit', 'blueprints/compute-hash-1k.yaml', '--url', url, '--token', token]);
    expect(forbidden.status).toBe(2);
    expect(forbidden.stderr).toMatch(/403 forbidden: .*hxo:submit/);
    const notRunning = xynSync(['abort', report.plan_id, '--url', url, '--token', admiral]);
    expect(notRunning.status).toBe(2);
    expect(notRunning.stderr).toMatch(/409 conflict: .*not running/);

    // Revoked while the node runs: the next request is refused.
    const listed = xynSync(['token', 'list', '--url', url, '--token', admiral]).stdout.trim().split('\n').map((l) => JSON.parse(l) as { token_id: string; principal: string; role: string });
    expect(listed.map((t) => t.role).sort()).toEqual(['admiral', 'captain']);
    expect(JSON.stringify(listed)).not.toContain(token);
    const id = (listed.find((t) => t.principal === 'cap') as { token_id: string }).token_id;
    expect(xynSync(['token', 'revoke', id, '--url', url, '--token', admiral]).status).toBe(0);
    const revoked = xynSync(['status', report.plan_id, '--url', url, '--token', token]);
    expect(revoked.status).toBe(2);
    expect(revoked.stderr).toMatch(/401 unauthorized/);
    expect(xynSync(['token', 'revoke', id, '--url', url, '--token', admiral]).status).toBe(2);
    expect(xynSync(['token', 'create', '--role', 'pirate', '--url', url, '--token', admiral]).status).toBe(2);
    // A captain cannot make tokens.
    const escalation = xynSync(['token', 'create', '--role', 'admiral', '--url', url, '--token', xynSync(['token', 'create', '--role', 'captain', '--url', url, '--token', admiral]).stdout.trim()]);
    expect(escalation.status).toBe(2);
    expect(escalation.stderr).toMatch(/403 forbidden: .*xyn:tokens/);
  }, 120_000); // about fifteen CLI processes in a row: on a busy shared machine, past the 30 s default

  it('plans, outputs, artifact get and resume through the node: an aborted plan submitted again says how to resume it, and resume certifies it', async () => {
    const remote = ['--url', url, '--token', admiral];
    const listed = JSON.parse(xynSync(['plans', ...remote, '--json']).stdout) as PlanSummary[];
    const hashPlan = listed.find((p) => p.plan_name === 'compute-hash-1k') as PlanSummary;
    expect(hashPlan).toMatchObject({ state: 'certified', total_shards: 1000, done_shards: 1000, failed_shards: 0 });

    const outputs = xynSync(['outputs', hashPlan.plan_id, ...remote]);
    expect(outputs.status, outputs.stderr).toBe(0);
    const rows = outputs.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as OutputRow);
    expect(rows.map((r) => [r.leaf_index, r.cas_id, r.output_digest])).toEqual([...Array(1000).keys()].map((i) => [i, specComputeHashShard(i).cas_id, specComputeHashShard(i).output_digest]));
    const noStage = xynSync(['outputs', hashPlan.plan_id, ...remote, '--stage', 'nope']);
    expect(noStage.status).toBe(2);
    expect(noStage.stderr).toMatch(/400 bad_request: plan compute-hash-1k has no stage "nope"/);

    // An artifact made on the node, read back through it byte for byte.
    const site = join(dir.path, 'site');
    mkdirSync(site);
    writeFileSync(join(site, 'index.md'), '# Remote\n\nBytes through the node.\n');
    writeFileSync(join(site, 'routes.json'), JSON.stringify({ '/': 'index.md' }));
    const docsFile = join(dir.path, 'docs.json');
    writeFileSync(docsFile, JSON.stringify({ name: 'remote-docs', stages: [{ id: 'docs', kind: 'docs.index', partitioner: 'by_route_map', executor: 'docs_index', config: { root: site } }] }));
    const docs = JSON.parse(xynSync(['submit', docsFile, ...remote, '--wait', '--json']).stdout) as PlanReport;
    const [docRow] = xynSync(['outputs', docs.plan_id, ...remote]).stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as OutputRow);
    const sha = ((docRow as OutputRow).output as { index: string }).index;
    const artifact = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'artifact', 'get', sha, ...remote], { cwd: REPO_ROOT, env: cliEnv(), encoding: 'buffer' });
    expect(artifact.status, artifact.stderr.toString()).toBe(0);
    expect(createHash('sha256').update(artifact.stdout).digest('hex')).toBe(sha);
    const unknown = xynSync(['artifact', 'get', '0'.repeat(64), ...remote]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/404 not_found: no artifact 0{64}/);

    // Aborted on the node; submitted again, the answer says how to continue it; resumed to a certified report.
    const slowFile = join(dir.path, 'slow.json');
    writeFileSync(slowFile, JSON.stringify(flakyPlan('remote-slow', 'slow', 3000, {}, { ms: 2 })));
    const planId = xynSync(['submit', slowFile, ...remote]).stdout.trim();
    expect(xynSync(['abort', planId, ...remote]).status).toBe(0);
    const statusOf = async (): Promise<PlanStatus> => (await (await fetch(`${url}/api/hxo/status/${planId}`, { headers: { authorization: `Bearer ${admiral}` } })).json()) as PlanStatus;
    await waitFor(async () => (await statusOf()).finished_at !== null, 60_000, 'the aborted plan to end');
    expect((await statusOf()).state).toBe('aborted');
    const again = xynSync(['submit', slowFile, ...remote]);
    expect(again.status).toBe(0);
    expect(again.stdout).toBe(`${planId}\n`);
    expect(again.stderr).toBe(`xyn: plan ${planId} was aborted; continue it with POST /api/hxo/resume/${planId} (\`xyn resume ${planId}\`)\n`);
    // The node holds its data dir: resuming there directly is refused, naming the node to go through.
    const direct = xynSync(['resume', planId, '--data', data]);
    expect(direct.status).toBe(2);
    expect(direct.stderr).toBe(`xyn: data dir ${data} is in use by pid ${serve.pid} (xyn serve on ${url}): resume the plan through it: xyn resume ${planId} --url ${url}\n`);
    const resumed = xynSync(['resume', planId, ...remote, '--json']);
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ plan_id: planId, state: 'certified', done_shards: 3000, failed_shards: 0 });
    const twice = xynSync(['resume', planId, ...remote]);
    expect(twice.status).toBe(2);
    expect(twice.stderr).toMatch(/409 conflict: plan \S+ cannot be resumed: it is already certified/);
  }, 180_000);

  it('no node at the URL is exit 1; a bad URL is exit 2', () => {
    const none = xynSync(['status', 'x', '--url', 'http://127.0.0.1:1', '--token', admiral]);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no answer from a node at http:\/\/127\.0\.0\.1:1/);
    expect(xynSync(['status', 'x', '--url', 'ftp://x', '--token', admiral]).status).toBe(2);
  });

  it('stops on SIGTERM; then tokens are made in the data dir directly, audited; a second start prints no token', async () => {
    expect(await serve.stop()).toBe(0);
    const direct = xynSync(['token', 'create', '--role', 'viewer', '--principal', 'ops', '--data', data]);
    expect(direct.status, direct.stderr).toBe(0);
    expect(direct.stdout).toMatch(/^xyn_[A-Za-z0-9_-]{43}\n$/);
    const audits = xynSync(['events', '--data', data, '--topic', 'hxo.audit', '--limit', '1000']).stdout.trim().split('\n').map((l) => JSON.parse(l) as { data: { operation: string; details: Record<string, unknown> } });
    expect(audits.filter((e) => e.data.operation === 'token.create').map((e) => e.data.details.principal)).toEqual(['cap', 'captain', 'ops']);
    expect(audits.some((e) => e.data.operation === 'token.revoke')).toBe(true);
    serve = await startServe(data, 0, env);
    expect(serve.stderr()).not.toMatch(/xyn_/);
  }, 60_000);
});
