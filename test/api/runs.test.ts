/**
 * Workflow runs over HTTP, against a real node with its run engine: a run of
 * a blueprint promoted through the drafts routes, its gate approved,
 * rejected, or the run cancelled while it waits there; lists filtered and
 * paged; refusals as 4xx naming why; who may do what; a webhook starting a
 * run; and who and why on the audit trail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../kernel/helpers.ts';
import { startApi, type Answer, type TestApi } from './helpers.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startApi({}, { hxo: false, runs: true });
  await promote(GATED);
  await promote(QUICK);
  await promote(HOOKED);
});
afterAll(async () => {
  await api?.close();
});

const GATED = {
  id: 'test.gated',
  name: 'Gated',
  trigger: { event_type: 'app.test.never' },
  inputs: [{ name: 'qty' }, { name: 'note', required: false, default: 'none' }],
  plan: [
    { kind: 'transform', id: 'before', outputs: { qty: '{{inputs.qty}}' } },
    { kind: 'gate', id: 'ok', mode: 'manual' },
    { kind: 'transform', id: 'after', outputs: { by: '{{steps.ok.outputs.by}}' } },
  ],
};
const QUICK = { id: 'test.quick', name: 'Quick', trigger: { event_type: 'app.test.never' }, plan: [{ kind: 'transform', id: 'only', outputs: { ok: true } }] };
const HOOKED = {
  id: 'test.hooked',
  name: 'Hooked',
  trigger: { event_type: 'xyn.hook.deploy.*' },
  inputs: [{ name: 'env' }],
  plan: [{ kind: 'transform', id: 'say', outputs: { line: 'deployed to {{inputs.env}}' } }],
};

function expectStatus(answer: Answer, status: number): Record<string, unknown> {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  return answer.body;
}

const errorOf = (answer: Answer) => answer.body.error as { code: string; message: string; details: Record<string, unknown> | null };

/** Saves, validates and promotes a blueprint through the drafts routes. */
async function promote(bp: Record<string, unknown>): Promise<void> {
  const saved = expectStatus(await api.call('POST', '/api/v1/drafts', { body: { text: JSON.stringify(bp), file_name: `${bp.id as string}.json` } }), 201);
  const validated = expectStatus(await api.call('POST', `/api/v1/drafts/${saved.draft_id as string}/validate`, { body: {} }), 200);
  expect((validated.report as { is_valid: boolean }).is_valid, JSON.stringify(validated.report)).toBe(true);
  expectStatus(await api.call('POST', `/api/v1/drafts/${saved.draft_id as string}/promote`, { body: { revision: saved.revision } }), 200);
}

async function create(body: Record<string, unknown>, token = api.tokens.operator, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  return expectStatus(await api.call('POST', '/api/v1/runs', { token, body, headers }), 201);
}

async function getRun(id: string): Promise<Record<string, unknown>> {
  return expectStatus(await api.call('GET', `/api/v1/runs/${id}`, { token: api.tokens.viewer }), 200);
}

/** Waits until the run (read over HTTP) satisfies `done`. */
async function until(id: string, done: (run: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
  let run: Record<string, unknown> = {};
  await waitFor(
    async () => {
      run = await getRun(id);
      return done(run);
    },
    10_000,
    `run ${id}: ${what}`,
  );
  return run;
}

const waitingAtGate = (id: string) => until(id, (r) => r.waiting_on === 'ok', 'waiting at gate ok');
const ended = (id: string) => until(id, (r) => ['completed', 'failed', 'cancelled'].includes(r.status as string), 'ended');

/** The principals' operations on a run in the audit trail (the run's own changes, `xyn.run.*` and `xyn.step.*`, are records there too). */
async function auditOf(runId: string) {
  await api.node.kernel.audit.caughtUp();
  return api.node.kernel.audit.list({}).filter((r) => r.details.run_id === runId && !r.operation.startsWith('xyn.'));
}

describe('runs over HTTP', () => {
  it('create → waits at its gate → steps → approve → completed; who and why kept and audited', async () => {
    const correlation = 'corr-runs-approve-1';
    const run = await create({ blueprint_ref: 'test.gated', inputs: { qty: 3 }, name: 'first', priority: 2 }, api.tokens.operator, { 'x-correlation-id': correlation });
    expect(run).toMatchObject({
      name: 'first',
      status: 'created',
      actor: 'operator-user',
      correlation_id: correlation,
      inputs: { qty: 3, note: 'none' },
      blueprint_id: 'test.gated',
      blueprint_version: 1,
      priority: 2,
      trigger: { kind: 'manual' },
      step_count: 3,
    });
    const id = run.run_id as string;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);

    const waiting = await waitingAtGate(id);
    expect(waiting.status).toBe('running');
    const steps = expectStatus(await api.call('GET', `/api/v1/runs/${id}/steps`, { token: api.tokens.viewer }), 200).items as Record<string, unknown>[];
    expect(steps.map((s) => [s.step_id, s.kind, s.status])).toEqual([
      ['before', 'transform', 'completed'],
      ['ok', 'gate', 'running'],
      ['after', 'transform', 'created'],
    ]);
    expect(steps[1]?.gate).toEqual({ decision: 'waiting' });
    expect(expectStatus(await api.call('GET', `/api/v1/runs/${id}/steps/before`, { token: api.tokens.captain }), 200)).toMatchObject({ step_id: 'before', run_id: id, outputs: { qty: 3 } });

    const decided = expectStatus(await api.call('POST', `/api/v1/runs/${id}/steps/ok/approve`, { token: api.tokens.operator, body: { reason: 'looks right' } }), 200);
    expect(decided).toMatchObject({ step_id: 'ok', status: 'completed', gate: { decision: 'approved', by: 'operator-user', reason: 'looks right' } });
    const done = await ended(id);
    expect(done).toMatchObject({ status: 'completed', waiting_on: null, steps_ended: 3 });
    expect(expectStatus(await api.call('GET', `/api/v1/runs/${id}/steps/after`), 200).outputs).toEqual({ by: 'operator-user' });

    // Decided once: a second decision, or one on a step that is no gate, is 409.
    const again = await api.call('POST', `/api/v1/runs/${id}/steps/ok/approve`, { body: {} });
    expectStatus(again, 409);
    expect(errorOf(again).code).toBe('conflict');
    expectStatus(await api.call('POST', `/api/v1/runs/${id}/steps/before/reject`, { body: {} }), 409);
    expectStatus(await api.call('POST', `/api/v1/runs/${id}/cancel`, { body: {} }), 409);

    const audit = await auditOf(id);
    expect(audit.map((r) => r.operation)).toEqual(['run.create', 'gate.approve']);
    expect(audit[0]).toMatchObject({ user: 'operator-user', role: 'operator', details: { blueprint_id: 'test.gated', blueprint_version: 1 } });
    expect(audit[1]).toMatchObject({ user: 'operator-user', role: 'operator', details: { step_id: 'ok', reason: 'looks right' } });
  });

  it('reject → failed with GATE_REJECTED; cancel while waiting → cancelled; both audited with their reason', async () => {
    const rejected = (await create({ blueprint_ref: 'test.gated@1', inputs: { qty: 1 } })).run_id as string;
    const cancelled = (await create({ blueprint_ref: 'test.gated', inputs: { qty: 2 } })).run_id as string;
    await waitingAtGate(rejected);
    await waitingAtGate(cancelled);

    const step = expectStatus(await api.call('POST', `/api/v1/runs/${rejected}/steps/ok/reject`, { token: api.tokens.admiral, body: { reason: 'wrong host' } }), 200);
    expect(step).toMatchObject({ step_id: 'ok', gate: { decision: 'rejected', by: 'admiral-user', reason: 'wrong host' } });
    const failed = await ended(rejected);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'GATE_REJECTED', step_id: 'ok' } });

    const after = expectStatus(await api.call('POST', `/api/v1/runs/${cancelled}/cancel`, { token: api.tokens.operator, body: { reason: 'not today' } }), 200);
    expect(after.run_id).toBe(cancelled);
    expect((await ended(cancelled)).status).toBe('cancelled');
    const twice = await api.call('POST', `/api/v1/runs/${cancelled}/cancel`, { body: {} });
    expectStatus(twice, 409);
    expect(errorOf(twice).message).toMatch(/already ended cancelled/);
    expectStatus(await api.call('POST', `/api/v1/runs/${cancelled}/steps/ok/approve`, { body: {} }), 409);

    expect((await auditOf(rejected)).at(-1)).toMatchObject({ operation: 'gate.reject', user: 'admiral-user', role: 'admiral', details: { step_id: 'ok', reason: 'wrong host' } });
    expect((await auditOf(cancelled)).at(-1)).toMatchObject({ operation: 'run.cancel', user: 'operator-user', details: { reason: 'not today' } });
  });

  it('lists newest first, filtered by status and blueprint, paged by next_cursor with no gap and no duplicate', async () => {
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push((await create({ blueprint_ref: 'test.quick' })).run_id as string);
    for (const id of made) expect((await ended(id)).status).toBe('completed');

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/api/v1/runs?blueprint=test.quick&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = expectStatus(await api.call('GET', query, { token: api.tokens.viewer }), 200);
      const items = page.items as { run_id: string; blueprint_id: string }[];
      expect(items.length).toBeLessThanOrEqual(3);
      for (const r of items) expect(r.blueprint_id).toBe('test.quick');
      seen.push(...items.map((r) => r.run_id));
      cursor = page.next_cursor as string | null;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...made].reverse());

    const completed = expectStatus(await api.call('GET', '/api/v1/runs?status=completed&blueprint=test.quick&limit=500'), 200).items as { status: string }[];
    expect(completed).toHaveLength(7);
    const all = expectStatus(await api.call('GET', '/api/v1/runs?limit=500'), 200).items as { run_id: string }[];
    expect(all.map((r) => r.run_id)).toEqual(expect.arrayContaining(made));
    expect(expectStatus(await api.call('GET', '/api/v1/runs?status=failed&blueprint=test.quick'), 200).items).toEqual([]);
  });

  it('unknown runs and steps are 404; a bad filter, ref or inputs is 400 naming it; an unknown blueprint 404; never 5xx', async () => {
    const unknown = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
    for (const [method, path] of [
      ['GET', `/api/v1/runs/${unknown}`],
      ['GET', `/api/v1/runs/${unknown}/steps`],
      ['GET', `/api/v1/runs/${unknown}/steps/ok`],
      ['POST', `/api/v1/runs/${unknown}/cancel`],
      ['POST', `/api/v1/runs/${unknown}/steps/ok/approve`],
    ] as const) {
      const answer = await api.call(method, path, method === 'POST' ? { body: {} } : {});
      expectStatus(answer, 404);
      expect(errorOf(answer).code).toBe('not_found');
    }
    const quick = expectStatus(await api.call('GET', '/api/v1/runs?blueprint=test.quick&limit=1'), 200).items as { run_id: string }[];
    expectStatus(await api.call('GET', `/api/v1/runs/${quick[0]?.run_id as string}/steps/nope`), 404);

    const status = await api.call('GET', '/api/v1/runs?status=sleeping');
    expectStatus(status, 400);
    expect(errorOf(status).message).toMatch(/^query\.status: .*created, running, completed, failed, cancelled/);
    expect(errorOf(await api.call('GET', '/api/v1/runs?cursor=nope')).message).toMatch(/^query\.cursor/);

    const ref = await api.call('POST', '/api/v1/runs', { body: { blueprint_ref: 'Bad Ref!' } });
    expectStatus(ref, 400);
    expect(errorOf(ref).message).toMatch(/^body\.blueprint_ref: /);
    for (const blueprint_ref of ['no.such.blueprint', 'test.gated@99']) expect(errorOf(await api.call('POST', '/api/v1/runs', { body: { blueprint_ref } })).code).toBe('not_found');

    const missing = await api.call('POST', '/api/v1/runs', { body: { blueprint_ref: 'test.gated', inputs: { note: 'x' } } });
    expectStatus(missing, 400);
    expect(errorOf(missing)).toMatchObject({ code: 'invalid_inputs', message: expect.stringContaining('qty') });
    expect(JSON.stringify(errorOf(missing).details)).toContain('qty');

    const probes: [string, string, unknown][] = [
      ['POST', '/api/v1/runs', {}],
      ['POST', '/api/v1/runs', { blueprint_ref: 42 }],
      ['POST', '/api/v1/runs', { blueprint_ref: 'test.gated', inputs: [1] }],
      ['POST', '/api/v1/runs', { blueprint_ref: 'test.gated', priority: 1.5 }],
      ['POST', '/api/v1/runs', { blueprint_ref: 'test.gated', extra: true }],
      ['POST', '/api/v1/runs', { blueprint_ref: 'test.gated@0' }],
      ['POST', '/api/v1/runs', { blueprint_ref: `test.gated@${'9'.repeat(40)}` }],
      ['POST', '/api/v1/runs', [1, 2]],
      ['POST', `/api/v1/runs/${unknown}/cancel`, { reason: 7 }],
      ['POST', `/api/v1/runs/${unknown}/steps/ok/approve`, { reason: 'x'.repeat(5000) }],
      ['POST', `/api/v1/runs/${unknown}/steps/not-an-id/approve`, {}],
      ['GET', `/api/v1/runs/${'a'.repeat(5000)}`, undefined],
      ['GET', '/api/v1/runs/not-a-run', undefined],
      ['GET', '/api/v1/runs?limit=0', undefined],
      ['GET', '/api/v1/runs?limit=9999', undefined],
      ['GET', '/api/v1/runs?blueprint=UPPER', undefined],
      ['POST', '/api/v1/hooks/a..b', {}],
      ['POST', `/api/v1/hooks/${'h'.repeat(300)}`, {}],
      ['POST', '/api/v1/hooks/deploy.x', [1]],
      ['POST', '/api/v1/hooks/deploy.x', 'text'],
    ];
    for (const [method, path, body] of probes) {
      const answer = await api.call(method, path, body === undefined ? {} : { body });
      const what = `${method} ${path.slice(0, 80)} ${JSON.stringify(body)?.slice(0, 80)}: ${JSON.stringify(answer.body).slice(0, 300)}`;
      expect(answer.status, what).toBeGreaterThanOrEqual(400);
      expect(answer.status, what).toBeLessThan(500);
    }
  });

  it('viewers and captains read runs but may not start, cancel or decide (403 naming the capability); no token is 401', async () => {
    const id = (await create({ blueprint_ref: 'test.gated', inputs: { qty: 9 } })).run_id as string;
    await waitingAtGate(id);
    for (const role of ['viewer', 'captain'] as const) {
      const token = api.tokens[role];
      expectStatus(await api.call('GET', `/api/v1/runs/${id}`, { token }), 200);
      expectStatus(await api.call('GET', '/api/v1/runs', { token }), 200);
      for (const [path, body, capability] of [
        ['/api/v1/runs', { blueprint_ref: 'test.gated', inputs: { qty: 1 } }, 'xyn:runs:write'],
        [`/api/v1/runs/${id}/cancel`, {}, 'xyn:runs:write'],
        [`/api/v1/runs/${id}/steps/ok/approve`, {}, 'xyn:runs:approve'],
        [`/api/v1/runs/${id}/steps/ok/reject`, {}, 'xyn:runs:approve'],
        ['/api/v1/hooks/deploy.viewer', { env: 'x' }, 'xyn:events:emit'],
      ] as const) {
        const refused = await api.call('POST', path, { token, body });
        expectStatus(refused, 403);
        expect(errorOf(refused).message).toContain(capability);
      }
    }
    expectStatus(await api.call('GET', `/api/v1/runs/${id}`, { token: null }), 401);
    expect((await getRun(id)).status).toBe('running');
    expectStatus(await api.call('POST', `/api/v1/runs/${id}/cancel`, { body: {} }), 200);
  });

  it('a hook publishes xyn.hook.<name> (202) and starts a run of the blueprint its trigger matches, with the declared inputs', async () => {
    const correlation = 'corr-hook-1';
    const answer = await api.call('POST', '/api/v1/hooks/deploy.done', { token: api.tokens.operator, body: { env: 'prod', sha: 'abc' }, headers: { 'x-correlation-id': correlation } });
    const published = expectStatus(answer, 202);
    expect(published).toMatchObject({ event_name: 'xyn.hook.deploy.done', correlation_id: correlation });
    expect(typeof published.seq).toBe('number');
    const event = expectStatus(await api.call('GET', `/api/v1/events/${published.event_id as string}`), 200);
    expect(event).toMatchObject({ event_name: 'xyn.hook.deploy.done', actor: 'operator-user', data: { env: 'prod', sha: 'abc' }, seq: published.seq });

    let runs: Record<string, unknown>[] = [];
    await waitFor(
      async () => {
        runs = expectStatus(await api.call('GET', '/api/v1/runs?blueprint=test.hooked'), 200).items as Record<string, unknown>[];
        return runs.length > 0;
      },
      10_000,
      'a run of test.hooked',
    );
    expect(runs).toHaveLength(1);
    const run = runs[0] as Record<string, unknown>;
    expect(run).toMatchObject({ actor: 'system', correlation_id: correlation, inputs: { env: 'prod' }, trigger: { kind: 'hook', event_name: 'xyn.hook.deploy.done', event_seq: published.seq } });
    const done = await ended(run.run_id as string);
    expect(done).toMatchObject({ status: 'completed' });
    expect(expectStatus(await api.call('GET', `/api/v1/runs/${run.run_id as string}/steps/say`), 200).outputs).toEqual({ line: 'deployed to prod' });

    // A hook whose name no trigger matches is published all the same, and starts nothing.
    expectStatus(await api.call('POST', '/api/v1/hooks/other', { body: {} }), 202);
  });
});
