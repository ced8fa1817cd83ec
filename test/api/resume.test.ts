/**
 * Resume and abort that do what they say, over a real server on loopback:
 * an aborted plan is continued from its checkpoints (the shards done before
 * the abort do not run again) and certified with the root of an
 * uninterrupted run, recomputed here from the spec; submitting it again says
 * how to resume it; every refusal has its status; the plan list shows
 * states and shard counts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { merkleRoot } from '../../src/hxo/certify/merkle.ts';
import type { PlanSummary } from '../../src/hxo/plan-list.ts';
import type { PlanReport, PlanStatus } from '../../src/hxo/report.ts';
import { tempDir, waitFor } from '../kernel/helpers.ts';
import { FLAKY_KIND, flakyPlan, planEvents, specCasId, specLeaf } from '../hxo/helpers.ts';
import { startApi, type Answer, type TestApi } from './helpers.ts';

let api: TestApi;
const dir = tempDir();
beforeAll(async () => {
  // The changing module below is written in a directory of its own: plans over HTTP load modules only from allowed ones.
  api = await startApi({ XYN_MODULE_DIRS: dir.path });
});
afterAll(async () => {
  await api?.close();
  dir.cleanup();
});

/**
 * A user's job kind `test.resumable` in a file of its own: the test.flaky
 * kind's partitioners and executors (its `slow` one among them) under another
 * name; `revision` stands for an edit of the module's code.
 */
function writeKind(file: string, revision: number): void {
  writeFileSync(file, [`export { partitioners, executors } from ${JSON.stringify(FLAKY_KIND)};`, `export const kind = 'test.resumable';`, `export const revision = ${revision};`, ''].join('\n'));
}

/** The root of a test.flaky `slow` plan of `count` shards (output = input {i}), from the spec. */
function specSlowRoot(count: number): string {
  const leaves = new Uint8Array(count * 32);
  for (let i = 0; i < count; i++) leaves.set(specLeaf(specCasId('test.flaky', 'slow', { i }), { i }).leaf, i * 32);
  return merkleRoot(leaves).toString('hex');
}

const status = (planId: string): Promise<PlanStatus> => api.call('GET', `/api/hxo/status/${planId}`).then((a) => a.body as unknown as PlanStatus);

async function until(planId: string, done: (s: PlanStatus) => boolean): Promise<PlanStatus> {
  let last: PlanStatus | undefined;
  await waitFor(async () => done((last = await status(planId))), 60_000, `plan ${planId}'s status`);
  return last as PlanStatus;
}

/** Submits a slow plan and aborts it once `doneAtLeast` shards are done; its aborted status. */
async function abortedPlan(name: string, count: number, doneAtLeast: number, plan = flakyPlan(name, 'slow', count, {}, { ms: 2 })): Promise<{ planId: string; plan: Record<string, unknown>; aborted: PlanStatus }> {
  const submitted = await api.call('POST', '/api/hxo/create-and-submit', { body: plan });
  expect(submitted.status).toBe(202);
  const planId = submitted.body.plan_id as string;
  await until(planId, (s) => s.done_shards >= doneAtLeast);
  expect((await api.call('POST', `/api/hxo/abort/${planId}`, { body: {} })).status).toBe(202);
  const aborted = await until(planId, (s) => s.finished_at !== null);
  expect(aborted.state).toBe('aborted');
  return { planId, plan, aborted };
}

function expectConflict(answer: Answer, message: RegExp): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(409);
  const error = answer.body.error as { code: string; message: string };
  expect(error.code).toBe('conflict');
  expect(error.message).toMatch(message);
}

describe('POST /api/hxo/resume/{id}', () => {
  it('continues an aborted plan from its checkpoints to a certified report with the uninterrupted root; submitting it again says how', async () => {
    // Batches in flight when the plan is aborted still end: enough shards that many are left.
    const count = 3000;
    const { planId, plan, aborted } = await abortedPlan('resume-aborted', count, 20);
    expect(aborted.done_shards).toBeGreaterThanOrEqual(20);
    expect(aborted.done_shards).toBeLessThan(count);

    // The same plan submitted again: its aborted report stands, and the answer says how to continue it.
    const again = await api.call('POST', '/api/hxo/create-and-submit', { body: plan });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ plan_id: planId, state: 'aborted', resume_url: `/api/hxo/resume/${planId}` });
    expect(again.body.hint).toBe(`plan ${planId} was aborted; continue it with POST /api/hxo/resume/${planId} (\`xyn resume ${planId}\`)`);
    expect((await status(planId)).state).toBe('aborted');

    const resumed = await api.call('POST', `/api/hxo/resume/${planId}`, { body: {}, headers: { 'x-correlation-id': 'corr-resume' } });
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(202);
    expect(resumed.body).toMatchObject({ plan_id: planId, plan_name: 'resume-aborted', state: 'running', total_shards: count, done_shards: aborted.done_shards, status_url: `/api/hxo/status/${planId}` });
    await until(planId, (s) => s.finished_at !== null);
    const report = (await api.call('GET', `/api/hxo/report/${planId}`)).body as unknown as PlanReport;
    expect(report).toMatchObject({ state: 'certified', truth_certified: true, total_shards: count, done_shards: count, failed_shards: 0 });
    expect(report.merkle_root).toBe(specSlowRoot(count));

    // The shards done before the abort did not run again: each shard was reported done once, over both runs.
    const done = planEvents(api.node.kernel, 'hxo.shard.done', planId).flatMap((e) => (e.data as { items: { cas_id: string }[] }).items.map((x) => x.cas_id));
    expect(done).toHaveLength(count);
    expect(new Set(done).size).toBe(count);
    const audit = api.node.kernel.bus.queryHistory({ topic: 'hxo.audit', limit: 10_000 }).filter((e) => e.data.operation === 'plan.resume');
    expect(audit.map((e) => ({ user: e.data.user, role: e.data.role, operation: e.data.operation, details: e.data.details, correlation_id: e.correlation_id }))).toContainEqual({
      user: 'admiral-user',
      role: 'admiral',
      operation: 'plan.resume',
      details: { plan_id: planId, plan_name: 'resume-aborted', from_state: 'aborted' },
      correlation_id: 'corr-resume',
    });

    // Now it is certified: nothing to resume.
    expectConflict(await api.call('POST', `/api/hxo/resume/${planId}`, { body: {} }), new RegExp(`^plan ${planId} cannot be resumed: it is already certified`));
    // And the list says so, with its counts.
    const listed = ((await api.call('GET', '/api/hxo/plans?limit=1000')).body.items as PlanSummary[]).find((p) => p.plan_id === planId);
    expect(listed).toMatchObject({ plan_name: 'resume-aborted', state: 'certified', total_shards: count, done_shards: count, failed_shards: 0, finished_at: report.finished_at });
  }, 120_000);

  it('refuses a running plan, a failed one (pointing at replay --failed), one whose code changed, an unknown one, a collected one, a body with fields, a caller without hxo:submit', async () => {
    const running = await api.call('POST', '/api/hxo/create-and-submit', { body: flakyPlan('resume-running', 'slow', 2000, {}, { ms: 5 }) });
    const runningId = running.body.plan_id as string;
    expectConflict(await api.call('POST', `/api/hxo/resume/${runningId}`, { body: {} }), /cannot be resumed: it is running/);
    const listedRunning = ((await api.call('GET', '/api/hxo/plans?limit=1000')).body.items as PlanSummary[]).find((p) => p.plan_id === runningId);
    expect(listedRunning).toMatchObject({ state: 'running', total_shards: 2000, finished_at: null });
    expect((await api.call('POST', `/api/hxo/abort/${runningId}`, { body: {} })).status).toBe(202);
    await until(runningId, (s) => s.finished_at !== null);

    const failing = await api.call('POST', '/api/hxo/create-and-submit', { body: flakyPlan('resume-failed', 'throws', 3, { retries: 0 }) });
    const failedId = failing.body.plan_id as string;
    expect((await until(failedId, (s) => s.finished_at !== null)).state).toBe('failed');
    expectConflict(await api.call('POST', `/api/hxo/resume/${failedId}`, { body: {} }), new RegExp(`it failed: 3 shard\\(s\\) failed for good; run them again with \`xyn replay ${failedId} --failed\``));

    // A plan whose code changed since it started: its executor's module edited while it stood aborted.
    const module = join(dir.path, 'resumable.mjs');
    writeKind(module, 0);
    const changing = { name: 'resume-changed', modules: [module], stages: [{ id: 'slow', kind: 'test.resumable', partitioner: 'by_count', executor: 'slow', config: { count: 3000, ms: 2 } }] };
    const { planId: changedId } = await abortedPlan('resume-changed', 3000, 1, changing);
    writeKind(module, 1);
    const changed = await api.call('POST', `/api/hxo/resume/${changedId}`, { body: {} });
    expectConflict(changed, new RegExp(`^plan ${changedId} changed since it started .*its code or inputs changed.*submit it as a new plan`));
    const { recorded_digest: recorded, digest } = (changed.body.error as { details: Record<string, string> }).details as { recorded_digest: string; digest: string };
    expect(recorded).toMatch(/^[0-9a-f]{64}$/);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(digest).not.toBe(recorded);
    expect((await status(changedId)).state).toBe('aborted');
    // Back as it was, the same plan again: it resumes.
    writeKind(module, 0);
    expect((await api.call('POST', `/api/hxo/resume/${changedId}`, { body: {} })).status).toBe(202);
    expect(await until(changedId, (s) => s.finished_at !== null)).toMatchObject({ state: 'certified', done_shards: 3000 });

    const unknown = await api.call('POST', '/api/hxo/resume/no-such-plan', { body: {} });
    expect(unknown.status).toBe(404);
    expect((unknown.body.error as { message: string }).message).toMatch(/no plan no-such-plan/);
    const withFields = await api.call('POST', `/api/hxo/resume/${runningId}`, { body: { force: true } });
    expect(withFields.status).toBe(400);
    expect((await api.call('POST', `/api/hxo/resume/${runningId}`, { body: {}, token: api.tokens.operator })).status).toBe(403);
    expect((await status(runningId)).state).toBe('aborted');

    // Retention collected an aborted plan's checkpoints: nothing to continue from (410).
    const { planId: collectedId } = await abortedPlan('resume-collected', 3000, 1);
    await api.node.engine.retention.collect(collectedId);
    const gone = await api.call('POST', `/api/hxo/resume/${collectedId}`, { body: {} });
    expect(gone.status, JSON.stringify(gone.body)).toBe(410);
    expect((gone.body.error as { message: string }).message).toMatch(/collected by retention/);
  }, 120_000);
});
