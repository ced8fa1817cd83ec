/**
 * The node's HTTP API on a real uWebSockets.js server on loopback, driven by
 * a real HTTP client: every route's happy path and its errors, the standard
 * error shape, correlation ids, and the roles × routes matrix built from the
 * server's own route table.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/kernel/config.ts';
import { createLogger } from '../../src/kernel/log.ts';
import { startKernel } from '../../src/kernel/kernel.ts';
import { tempDir } from '../kernel/helpers.ts';
import { CAPABILITIES, CONTROL_CAPABILITIES, ROLES, roleCapabilities, type Role } from '../../src/api/auth.ts';
import { startApiServer } from '../../src/api/server.ts';
import type { Route } from '../../src/api/router.ts';
import { verifyInclusion } from '../../src/hxo/certify/merkle.ts';
import type { PlanReport, PlanStatus } from '../../src/hxo/report.ts';
import type { XynEvent } from '../../src/core/event.ts';
import { computeHashPlan, flakyPlan, planEvents, specComputeHashRoot, startNode } from '../hxo/helpers.ts';
import { startApi, type Answer, type TestApi } from './helpers.ts';

/**
 * The control topics a caller may emit and what each needs besides
 * `xyn:events:emit`: what it makes the node do (split a plan's shard, tune
 * the engine) shapes plans, `hxo:plan`. Written out independently of the code.
 */
const CONTROL: Record<string, { capability: string; data: Record<string, unknown> }> = {
  // Harmless probes: HXO answers both with a refusal (no such plan runs here).
  'genesis.heal': { capability: 'hxo:plan', data: { plan_id: 'no-such-plan', action: 'split_shard', parameters: { stage_id: 's', shard_index: 999_999 } } },
  'genesis.intent': { capability: 'hxo:plan', data: { intent: 'autotune', plan_id: 'no-such-plan', parameters: { p95_ms: 1, split_factor: 64 } } },
};

/** The capability table as the seed (001 "Capabilities") and DESIGN.md §6 give it, written out independently of the code. */
const EXPECTED: Record<Role, Set<string>> = {
  admiral: new Set(CAPABILITIES),
  captain: new Set(['hxo:view', 'hxo:audit', 'xyn:events:read', 'xyn:blueprints:read', 'xyn:runs:read', 'xyn:notifications:read', 'xyn:artifacts:read']),
  operator: new Set(['hxo:view', 'xyn:events:read', 'xyn:events:emit', 'xyn:blueprints:read', 'xyn:blueprints:write', 'xyn:runs:read', 'xyn:runs:write', 'xyn:runs:approve', 'xyn:notifications:read', 'xyn:notifications:ack', 'xyn:artifacts:read', 'xyn:artifacts:write']),
  viewer: new Set(['xyn:events:read', 'xyn:blueprints:read', 'xyn:runs:read', 'xyn:notifications:read', 'xyn:artifacts:read']),
};

let api: TestApi;
beforeAll(async () => {
  api = await startApi({}, { maxBodyBytes: 64 * 1024, runs: true });
});
afterAll(async () => {
  await api?.close();
});

function expectError(answer: Answer, status: number, code: string, message?: RegExp): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  const error = answer.body.error as { code: string; message: string; details: unknown };
  expect(error.code).toBe(code);
  expect(typeof error.message).toBe('string');
  if (message) expect(error.message).toMatch(message);
  expect(answer.body.correlation_id).toBe(answer.headers.get('x-correlation-id'));
}

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms: ${JSON.stringify(value).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ended = (a: Answer) => (a.body as unknown as PlanStatus).finished_at !== null;

const AGGREGATE = ['hxo.aggregate.ready', 'hxo.aggregate.certify', 'hxo.aggregate.finalized'];

/** The correlation ids on a plan's `hxo.*` events (read as a client does), by event name. */
async function correlationIdsOf(planId: string): Promise<Map<string, string[]>> {
  const answer = await api.call('GET', `/api/genesis/events?topic=hxo.>&plan_id=${planId}&limit=1000`);
  expect(answer.body.next_cursor).toBeNull();
  const ids = new Map<string, Set<string>>();
  for (const e of answer.body.items as XynEvent[]) ids.set(e.event_name, (ids.get(e.event_name) ?? new Set()).add(e.correlation_id));
  return new Map([...ids].map(([name, set]) => [name, [...set]]));
}

describe('HXO routes', () => {
  it('create-and-submit → status → report → shards → proof, certified with the spec root', async () => {
    const submitted = await api.call('POST', '/api/hxo/create-and-submit', { body: computeHashPlan('api-plan', 300), headers: { 'x-correlation-id': 'corr-api-1' } });
    expect(submitted.status).toBe(202);
    expect(submitted.headers.get('x-correlation-id')).toBe('corr-api-1');
    const planId = submitted.body.plan_id as string;
    expect(submitted.body).toMatchObject({ plan_name: 'api-plan', total_shards: 300, status_url: `/api/hxo/status/${planId}`, correlation_id: 'corr-api-1' });

    const status = await until(() => api.call('GET', `/api/hxo/status/${planId}`), ended);
    expect(status.status).toBe(200);
    for (const field of ['plan_id', 'plan_name', 'total_shards', 'pending_shards', 'claimed_shards', 'running_shards', 'done_shards', 'failed_shards', 'merkle_root', 'truth_certified', 'started_at', 'finished_at', 'eta_seconds']) {
      expect(status.body).toHaveProperty(field);
    }
    const report = (await api.call('GET', `/api/hxo/report/${planId}`)).body as unknown as PlanReport;
    expect(report.state).toBe('certified');
    expect(report.merkle_root).toBe(specComputeHashRoot(300));
    // The correlation id rode into the plan's events and its audit record.
    expect(planEvents(api.node.kernel, 'hxo.plan', planId)[0]?.correlation_id).toBe('corr-api-1');
    expect(await correlationIdsOf(planId)).toEqual(new Map(['hxo.plan', 'hxo.shard.created', 'hxo.shard.claimed', 'hxo.shard.done', ...AGGREGATE].map((name) => [name, ['corr-api-1']])));
    const audit = api.node.kernel.bus.queryHistory({ topic: 'hxo.audit', limit: 1000 }).find((e) => (e.data.details as { plan_id?: string }).plan_id === planId);
    expect(audit?.data).toMatchObject({ user: 'admiral-user', role: 'admiral', operation: 'plan.submit' });

    const plans = await api.call('GET', '/api/hxo/plans');
    expect((plans.body.items as { plan_id: string }[]).map((p) => p.plan_id)).toContain(planId);


    const first = await api.call('GET', `/api/hxo/plans/${planId}/shards?limit=120`);
    expect((first.body.items as unknown[]).length).toBe(120);
    expect(first.body.next_cursor).toBe('120');
    const rest: { leaf_index: number; cas_id: string; phase: string }[] = [];
    for (let cursor = first.body.next_cursor as string | null; cursor !== null; ) {
      const page = await api.call('GET', `/api/hxo/plans/${planId}/shards?limit=100&cursor=${cursor}`);
      rest.push(...(page.body.items as typeof rest));
      cursor = page.body.next_cursor as string | null;
    }
    const all = [...(first.body.items as typeof rest), ...rest];
    expect(all.map((s) => s.leaf_index)).toEqual([...Array(300).keys()]);
    expect(all.every((s) => s.phase === 'done')).toBe(true);
    expect((await api.call('GET', `/api/hxo/plans/${planId}/shards?phase=failed`)).body).toEqual({ items: [], next_cursor: null });

    const shard = all[217] as { cas_id: string };
    const proof = await api.call('GET', `/api/hxo/proof/${planId}/${shard.cas_id}`);
    expect(proof.status).toBe(200);
    expect(proof.body).toMatchObject({ leaf_cas_id: shard.cas_id, leaf_index: 217, root_hash: report.merkle_root });
    expect(verifyInclusion(proof.body)).toBe(true);
  });

  it('a plan submitted without a correlation id carries the one the node made on every event of its run', async () => {
    const submitted = await api.call('POST', '/api/hxo/create-and-submit', { body: computeHashPlan('api-plan-made-id', 40) });
    const made = submitted.headers.get('x-correlation-id') as string;
    expect(made).toMatch(/^[0-9a-f-]{36}$/);
    expect(submitted.body.correlation_id).toBe(made);
    const planId = submitted.body.plan_id as string;
    await until(() => api.call('GET', `/api/hxo/status/${planId}`), ended);
    const ids = await correlationIdsOf(planId);
    for (const name of AGGREGATE) expect(ids.get(name), name).toEqual([made]);
    expect([...new Set([...ids.values()].flat())]).toEqual([made]);
  });

  it('abort stops a running plan (then 409); replay runs its undone shards again; errors are 4xx with the standard shape', async () => {
    const slow = await api.call('POST', '/api/hxo/create-and-submit', { body: flakyPlan('api-slow', 'slow', 400, {}, { ms: 20 }) });
    expect(slow.status).toBe(202);
    const planId = slow.body.plan_id as string;
    const aborted = await api.call('POST', `/api/hxo/abort/${planId}`, { body: {} });
    expect(aborted.status).toBe(202);
    const status = await until(() => api.call('GET', `/api/hxo/status/${planId}`), ended);
    expect(status.body.state).toBe('aborted');
    expectError(await api.call('POST', `/api/hxo/abort/${planId}`, { body: {} }), 409, 'conflict', /not running/);

    const replay = await api.call('POST', `/api/hxo/replay/${planId}`, { body: { subtree: [0, 399] } });
    expect(replay.status).toBe(202);
    expect((replay.body.replaying as unknown[]).length).toBe(400);
    const again = await until(() => api.call('GET', `/api/hxo/status/${planId}`), (a) => ended(a) && a.body.state !== 'aborted');
    expect(again.body).toMatchObject({ state: 'certified', done_shards: 400 });

    expectError(await api.call('GET', '/api/hxo/status/no-such-plan'), 404, 'not_found');
    expectError(await api.call('GET', '/api/hxo/report/no-such-plan'), 404, 'not_found');
    expectError(await api.call('POST', '/api/hxo/replay/no-such-plan', { body: {} }), 404, 'not_found');
    expectError(await api.call('POST', `/api/hxo/replay/${planId}`, { body: { subtree: [5] } }), 400, 'bad_request', /^body/);
    expectError(await api.call('POST', `/api/hxo/replay/${planId}`, { body: { subtree: [0, 10_000] } }), 422, 'invalid_plan', /subtree/);
    expectError(await api.call('GET', `/api/hxo/plans/${planId}/shards?limit=0`), 400, 'bad_request', /^query\.limit: /);
    expectError(await api.call('GET', `/api/hxo/plans/${planId}/shards?phase=lost`), 400, 'bad_request', /^query\.phase: /);
    expectError(await api.call('GET', `/api/hxo/proof/${planId}/XYZ`), 400, 'bad_request', /16 lowercase hex/);
    expectError(await api.call('GET', `/api/hxo/proof/${planId}/0123456789abcdef`), 404, 'not_found');
    const invalid = await api.call('POST', '/api/hxo/create-and-submit', { body: { name: 'bad', stages: [{ id: 's', kind: 'compute.hash', partitioner: 'by_sql_batch' }] } });
    expectError(invalid, 422, 'invalid_plan', /^stages\[0\]\.partitioner: /);
    expect((invalid.body.error as { details: { field: string } }).details.field).toBe('stages[0].partitioner');
    const before = api.node.engine.list().length;
    expectError(await api.call('POST', '/api/hxo/create-and-submit', { body: { name: 'bad', stages: [] } }), 422, 'invalid_plan', /^stages: /);
    expect(api.node.engine.list().length).toBe(before);
  });
});

describe('plan list', () => {
  it('pages through every plan by plan id, with no gap or repeat', async () => {
    for (const name of ['page-a', 'page-b', 'page-c']) expect((await api.call('POST', '/api/hxo/create-and-submit', { body: computeHashPlan(name, 5) })).status).toBe(202);
    const all = ((await api.call('GET', '/api/hxo/plans?limit=1000')).body.items as { plan_id: string }[]).map((p) => p.plan_id);
    expect(all.length).toBeGreaterThanOrEqual(5);
    const paged: string[] = [];
    let pages = 0;
    for (let cursor: string | null = null; ; pages++) {
      const page: Answer = await api.call('GET', `/api/hxo/plans?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      paged.push(...(page.body.items as { plan_id: string }[]).map((p) => p.plan_id));
      cursor = page.body.next_cursor as string | null;
      if (cursor === null) break;
    }
    expect(paged).toEqual(all);
    expect(pages).toBe(Math.ceil(all.length / 2) - 1);
    expectError(await api.call('GET', '/api/hxo/plans?limit=abc'), 400, 'bad_request', /^query\.limit: /);
  });
});

describe('events and health', () => {
  it('health is public and says what the seed says', async () => {
    const health = await api.call('GET', '/api/v1/health', { token: null });
    expect(health.status).toBe(200);
    expect(Object.keys(health.body).sort()).toEqual(['now', 'status', 'uptime_seconds', 'version']);
    expect(health.body.status).toBe('ok');
    expect(Number.isInteger(health.body.uptime_seconds)).toBe(true);
  });

  it('emits an event, reads it back by id and in pages, and refuses the node-owned namespaces', async () => {
    const emitted = await api.call('POST', '/api/v1/events', {
      token: api.tokens.operator,
      body: { event_name: 'deploy.requested', data: { service: 'api', n: 1 }, resource: { type: 'service', id: 'api' }, run_id: 'run-1' },
      headers: { 'x-correlation-id': 'corr-emit' },
    });
    expect(emitted.status).toBe(201);
    expect(emitted.body).toMatchObject({ event_name: 'deploy.requested', actor: 'operator-user', correlation_id: 'corr-emit', run_id: 'run-1', data: { service: 'api', n: 1 } });
    const byId = await api.call('GET', `/api/v1/events/${emitted.body.event_id as string}`, { token: api.tokens.viewer });
    expect(byId.body).toEqual(emitted.body);
    expectError(await api.call('GET', '/api/v1/events/00000000-0000-8000-8000-000000000000'), 404, 'not_found');
    expectError(await api.call('GET', '/api/v1/events/not-an-id'), 400, 'bad_request', /^path parameter id: expected an event id/);

    const byName = await api.call('GET', '/api/v1/events?event_name=deploy.requested&limit=10');
    expect((byName.body.items as { event_id: string }[]).map((e) => e.event_id)).toEqual([emitted.body.event_id]);
    // Pages join with no gap and no duplicate. (Events of the plans of the tests
    // before may still land while paging: compare what was there when it began.)
    const lastBefore = api.node.kernel.bus.lastSeq;
    const seen: number[] = [];
    for (let cursor: string | null = '0'; cursor !== null; ) {
      const page = await api.call('GET', `/api/v1/events?limit=37&cursor=${cursor}`);
      seen.push(...(page.body.items as { seq: number }[]).map((e) => e.seq));
      cursor = page.body.next_cursor as string | null;
    }
    expect(seen).toEqual([...new Set(seen)].sort((a, b) => a - b));
    expect(seen.filter((seq) => seq <= lastBefore)).toEqual(api.node.kernel.events.read({ until: lastBefore, limit: 100_000 }).map((e) => e.seq));
    expect(seen.at(-1)).toBeGreaterThanOrEqual(lastBefore);

    const genesis = await api.call('GET', '/api/genesis/events?topic=deploy.*&service=api');
    expect((genesis.body.items as { event_id: string }[]).map((e) => e.event_id)).toEqual([emitted.body.event_id]);
    expect((await api.call('GET', '/api/genesis/events?topic=deploy.*&service=web')).body.items).toEqual([]);
    expectError(await api.call('GET', '/api/genesis/events?topic=a..b'), 400, 'bad_request', /^topic: /);

    for (const name of ['hxo.audit', 'hxo.plan', 'xyn.kernel.started', 'xyn.audit.token', 'HXO.plan', 'hxo', 'xyn.api.listening', 'Genesis.heal']) {
      expectError(await api.call('POST', '/api/v1/events', { body: { event_name: name, data: {} } }), 403, 'forbidden', /node-owned namespace .*only the node writes/);
    }
    expectError(await api.call('POST', '/api/v1/events', { body: { event_name: 'bad topic!', data: {} } }), 400, 'bad_request', /^event_name: /);
    expectError(await api.call('POST', '/api/v1/events', { body: { data: {} } }), 400, 'bad_request', /^body\.event_name: /);
    expectError(await api.call('POST', '/api/v1/events', { body: { event_name: 'a.b', data: {}, extra: 1 } }), 400, 'bad_request', /extra/);
  });

  it('shows hxo.audit only to callers with hxo:audit', async () => {
    const audits = (token: string) => api.call('GET', '/api/genesis/events?topic=hxo.audit&limit=1000', { token });
    expect(((await audits(api.tokens.captain)).body.items as unknown[]).length).toBeGreaterThan(0);
    expect((await audits(api.tokens.viewer)).body.items).toEqual([]);
    expect((await audits(api.tokens.operator)).body.items).toEqual([]);
  });
});

describe('the HTTP layer', () => {
  it('answers unknown paths 404, wrong methods 405 with Allow, and takes or makes correlation ids', async () => {
    expectError(await api.call('GET', '/api/nope'), 404, 'not_found');
    const wrong = await api.call('DELETE', '/api/v1/events');
    expectError(wrong, 405, 'method_not_allowed');
    expect(wrong.headers.get('allow')).toBe('GET, POST, HEAD');
    const made = await api.call('GET', '/api/v1/health', { headers: { 'x-correlation-id': 'bad id with spaces' } });
    expect(made.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    expectError(await api.call('GET', '/api/hxo/status/%E0%A4%A'), 400, 'bad_request', /percent-encoding/);
  });

  it('checks bodies: 413 over the limit, 415 not JSON, 400 unparseable or missing', async () => {
    expectError(await api.call('POST', '/api/v1/events', { raw: 'x'.repeat(70 * 1024), headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large');
    expectError(await api.call('POST', '/api/v1/events', { raw: '{"event_name":"a.b"}', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
    expectError(await api.call('POST', '/api/v1/events', { raw: '{"event_name":', headers: { 'content-type': 'application/json' } }), 400, 'bad_request', /not valid JSON/);
    expectError(await api.call('POST', '/api/v1/events', { headers: { 'content-type': 'application/json' } }), 400, 'bad_request', /needs a JSON body/);
    // The server is still fine.
    expect((await api.call('GET', '/api/v1/health')).status).toBe(200);
  });

  it('authenticates: missing, malformed, unknown and revoked tokens are 401; a revoked token stops working mid-session', async () => {
    expectError(await api.call('GET', '/api/hxo/plans', { token: null }), 401, 'unauthorized', /required/);
    expectError(await api.call('GET', '/api/hxo/plans', { token: null, headers: { authorization: 'Basic abc' } }), 401, 'unauthorized', /Bearer/);
    expectError(await api.call('GET', '/api/hxo/plans', { token: 'xyn_notatoken' }), 401, 'unauthorized', /not valid/);
    const { token, record } = await api.server.tokens.create('temp', 'operator');
    expect((await api.call('GET', '/api/hxo/plans', { token })).status).toBe(200);
    // Only the stream's upgrade takes ?token= (stream.test.ts): a token in a URL ends up in logs.
    expectError(await api.call('GET', `/api/hxo/plans?token=${token}`, { token: null }), 401, 'unauthorized', /Authorization header/);
    await api.server.tokens.revoke(record.token_id);
    expectError(await api.call('GET', '/api/hxo/plans', { token }), 401, 'unauthorized', /not valid/);
  });

  it('roles have the capabilities of the seed\'s table (captains view only with HXO_ALLOW_CAPTAIN_VIEW)', () => {
    for (const role of ROLES) expect([...roleCapabilities(role, { captainView: true })].sort(), role).toEqual([...(EXPECTED[role] as Set<string>)].sort());
    expect(roleCapabilities('captain', { captainView: false }).has('hxo:view')).toBe(false);
  });

  it('roles × routes: every route declares a capability, and no role gets a 2xx it has no capability for (control topics included)', async () => {
    const routes = api.server.routes;
    for (const r of routes) expect([...CAPABILITIES, 'public']).toContain(r.capability);
    expect(Object.fromEntries(Object.entries(CONTROL_CAPABILITIES).map(([t, c]) => [t, c.capability]))).toEqual(Object.fromEntries(Object.entries(CONTROL).map(([t, c]) => [t, c.capability])));
    const planId = (api.node.engine.list()[0] as { plan_id: string }).plan_id;
    /** Each route's probes: its path, body, and what a caller needs besides the route's capability. */
    const probesFor = (r: Route): { path: string; body?: unknown; also?: string }[] => {
      const path = r.path.replace(':id', planId).replace(':cas_id', '0123456789abcdef').replace(':step_id', 'approve').replace(':name', 'matrix');
      if (r.method === 'GET') return [{ path }];
      // Collecting is not undone: ask for a plan that is not there (404 past the capability check).
      if (r.method === 'DELETE') return [{ path: r.path.replace(':id', 'no-such-plan') }];
      if (r.path === '/api/hxo/create-and-submit') return [{ path, body: computeHashPlan('matrix', 3) }];
      if (r.path === '/api/v1/events') {
        const control = Object.entries(CONTROL).map(([event_name, c]) => ({ path, body: { event_name, data: c.data }, also: c.capability }));
        return [{ path, body: { event_name: 'matrix.ping', data: {} } }, ...control];
      }
      return [{ path, body: {} }];
    };
    let unauthorized2xx = 0;
    let checked = 0;
    let probes = 0;
    for (const route of routes) {
      for (const { path, body, also } of probesFor(route)) {
        probes++;
        for (const role of [...ROLES, null] as (Role | null)[]) {
          const answer = await api.call(route.method, path, { token: role ? api.tokens[role] : null, ...(body !== undefined ? { body } : {}) });
          const has = (c: string) => role !== null && (EXPECTED[role] as Set<string>).has(c);
          const allowed = route.capability === 'public' || (has(route.capability) && (also === undefined || has(also)));
          const what = `${role} ${route.method} ${route.path} ${also ? JSON.stringify(body) : ''}`;
          checked++;
          if (!allowed && answer.status < 300) unauthorized2xx++;
          if (!allowed) expect(answer.status, what).toBe(role === null ? 401 : 403);
          else expect([401, 403], what).not.toContain(answer.status);
          // A refusal names the capability the caller lacks.
          if (!allowed && role !== null) expect((answer.body.error as { message: string }).message, what).toContain(has(route.capability) ? (also as string) : route.capability);
          expect(answer.status, what).toBeLessThan(500);
        }
      }
    }
    expect(unauthorized2xx).toBe(0);
    expect(checked).toBe(probes * (ROLES.length + 1));
    expect(probes).toBe(routes.length + Object.keys(CONTROL).length);
  });
});

describe('configuration', () => {
  it('HXO_ENABLED=false serves no HXO route (404 in the standard shape)', async () => {
    const off = await startApi({ HXO_ENABLED: 'false' }, { hxo: false });
    try {
      expectError(await off.call('GET', '/api/hxo/plans'), 404, 'not_found');
      expect((await off.call('GET', '/api/v1/health')).status).toBe(200);
    } finally {
      await off.close();
    }
  });

  it('logs every request as one JSON line: method, path, status, ms, correlation_id', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const tmp = tempDir();
    const kernel = await startKernel(loadConfig({ env: { XYN_DATA_DIR: tmp.path, XYN_WORKERS: '1', XYN_AUTH: 'open' } }), { log: createLogger('info', sink) });
    try {
      const server = await startApiServer({ kernel, host: '127.0.0.1', port: 0 });
      await fetch(`http://127.0.0.1:${server.port}/api/v1/health`, { headers: { 'x-correlation-id': 'log-me' } });
      await fetch(`http://127.0.0.1:${server.port}/api/v1/nope`);
      await server.close();
      const requests = lines.filter((l) => l.msg === 'request');
      expect(requests[0]).toMatchObject({ method: 'GET', path: '/api/v1/health', status: 200, correlation_id: 'log-me' });
      expect(typeof requests[0]?.ms).toBe('number');
      expect(requests[1]).toMatchObject({ method: 'GET', path: '/api/v1/nope', status: 404 });
      expect(requests[1]?.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await kernel.stop();
      tmp.cleanup();
    }
  });

  it('XYN_AUTH=open is refused off loopback, and makes everyone admiral on it', async () => {
    const node = await startNode({ XYN_AUTH: 'open' });
    try {
      await expect(startApiServer({ kernel: node.kernel, engine: node.engine, host: '0.0.0.0', port: 0 })).rejects.toThrow(/XYN_AUTH: "open" is allowed only on a loopback host/);
      // Loopback as the config says it (kernel/config.ts isLoopback): all of 127/8, not 127.0.0.1 alone.
      for (const host of ['127.0.0.1', '127.0.0.2']) {
        const server = await startApiServer({ kernel: node.kernel, engine: node.engine, host, port: 0 });
        const res = await fetch(`http://${host}:${server.port}/api/hxo/plans`);
        expect(res.status).toBe(200);
        await server.close();
      }
    } finally {
      await node.close();
    }
  });
});
