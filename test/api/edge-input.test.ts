/**
 * What the fuzzing of issue 12 found at the API's edge, on a real node over
 * loopback: values nested past the limit, ids too long for an LMDB key,
 * modules that are not files of the plan's directory, tokens in URLs, and
 * HEAD. Each is a 4xx naming what is wrong and how it should be; none is a
 * 500, and the node still answers after.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_NESTING } from '../../src/core/nesting.ts';
import { startApiServer } from '../../src/api/server.ts';
import { tempDir } from '../kernel/helpers.ts';
import { FLAKY_KIND, computeHashPlan, flakyPlan } from '../hxo/helpers.ts';
import { startApi, type Answer, type TestApi } from './helpers.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

/** An object `levels` deep, as JSON: `{"a":{"a":…{}}}` (built as text: JSON.stringify itself recurses). */
function nested(levels: number): string {
  return '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);
}

const json = { 'content-type': 'application/json' };

function expectRefusal(answer: Answer, status: number, message: RegExp, details?: Record<string, unknown>): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  const error = answer.body.error as { message: string; details: Record<string, unknown> | null };
  expect(error.message).toMatch(message);
  if (details) expect(error.details).toMatchObject(details);
}

describe('nesting', () => {
  it('an event whose data nests past the limit is 400 naming the field and the limit; at the limit it is emitted', async () => {
    // The body is level 1, its data level 2: data may nest MAX_NESTING - 1 levels.
    const atLimit = await api.call('POST', '/api/v1/events', { raw: `{"event_name":"deep.ok","data":${nested(MAX_NESTING - 1)}}`, headers: json });
    expect(atLimit.status).toBe(201);
    for (const levels of [MAX_NESTING, 1_500, 100_000]) {
      const answer = await api.call('POST', '/api/v1/events', { raw: `{"event_name":"deep.fuzz","data":${nested(levels)}}`, headers: json });
      expectRefusal(answer, 400, /^body\.data\.a\.a.*: nested more than 64 levels deep .*the limit is 64 levels/, { field: expect.stringMatching(/^body\.data\./) as unknown, limit: 64 });
    }
    expect(api.node.kernel.bus.queryHistory({ topic: 'deep.fuzz', limit: 10 })).toEqual([]);
  });

  it('a plan whose config nests 1,500 deep is refused, naming the field; nothing is written', async () => {
    const before = api.node.engine.list().length;
    const plan = JSON.stringify(computeHashPlan('deep-plan', 10, { config: { total: 10, per_shard: 1, rounds: 1, deep: '$' } })).replace('"$"', nested(1_500));
    expectRefusal(await api.call('POST', '/api/hxo/create-and-submit', { raw: plan, headers: json }), 400, /^body\.stages\[0\]\.config\.deep\.a.*the limit is 64/);
    expect(api.node.engine.list().length).toBe(before);
    expect((await api.call('GET', '/api/v1/health')).status).toBe(200);
  });
});

describe('ids in paths', () => {
  const long = 'x'.repeat(4_093);
  const cases: [string, string, string, RegExp][] = (
    [
    ['GET', `/api/hxo/status/${long}`, 'path.id', /^path parameter id: expected a plan id: 1-128 letters, digits, _ \. - .*\(4093 characters\)/],
    ['GET', `/api/hxo/report/${long}`, 'path.id', /expected a plan id/],
    ['POST', `/api/hxo/abort/${long}`, 'path.id', /expected a plan id/],
    ['POST', `/api/hxo/replay/${long}`, 'path.id', /expected a plan id/],
    ['POST', `/api/hxo/resume/${long}`, 'path.id', /expected a plan id/],
    ['DELETE', `/api/hxo/plans/${long}`, 'path.id', /expected a plan id/],
    ['GET', `/api/hxo/plans/${long}/shards`, 'path.id', /expected a plan id/],
    ['GET', `/api/hxo/outputs/${long}`, 'path.id', /expected a plan id/],
    ['GET', `/api/hxo/proof/p/${long}`, 'path.cas_id', /expected a cas_id: 16 lowercase hex digits/],
    ['GET', `/api/hxo/proof/${long}/0123456789abcdef`, 'path.id', /expected a plan id/],
    ['GET', `/api/hxo/artifacts/${long}`, 'path.sha256', /expected an artifact's sha256: 64 hex digits/],
    ['GET', `/api/v1/events/${long}`, 'path.id', /expected an event id: a UUID/],
    ['GET', '/api/v1/events/not-an-id', 'path.id', /expected an event id: a UUID/],
    ['POST', `/api/v1/tokens/${long}/revoke`, 'path.id', /expected a token id/],
    ['GET', '/api/hxo/status/a%2Fb', 'path.id', /expected a plan id.*"a\/b"/],
  ] as [string, string, string, RegExp][]
  ).map(([m, p, f, r]) => [m, p.replace(long, '<4093 x>'), f, r]);
  it.each(cases)('%s %s is 400 naming %s and its shape', async (method, shown, field, message) => {
    const path = shown.replace('<4093 x>', long);
    const answer = await api.call(method, path, method === 'POST' ? { body: {} } : {});
    expectRefusal(answer, 400, message, { field });
  });

  it('ids of the right shape go on to the handler (404 for unknown ones), and a long plans cursor is 400', async () => {
    expect((await api.call('GET', '/api/hxo/status/no-such-plan')).status).toBe(404);
    expect((await api.call('GET', '/api/v1/events/00000000-0000-8000-8000-000000000000')).status).toBe(404);
    expect((await api.call('POST', '/api/v1/tokens/0123456789abcdef/revoke', { body: {} })).status).toBe(404);
    expectRefusal(await api.call('GET', `/api/hxo/plans?cursor=${'y'.repeat(5_000)}`), 400, /^query\.cursor: expected a plan id/);
  });
});

describe('job-kind modules of plans submitted over HTTP', () => {
  it.each(['node:fs', 'data:text/javascript,export default 1', 'http://127.0.0.1:1/kind.mjs', 'file://elsewhere/kind.mjs'])('%s is refused naming modules[0]', async (spec) => {
    const answer = await api.call('POST', '/api/hxo/create-and-submit', { body: { ...computeHashPlan('mod-scheme', 5), modules: [spec] } });
    expectRefusal(answer, 422, /^modules\[0\]: /, { field: 'modules[0]' });
    expect((answer.body.error as { message: string }).message).toMatch(/a job-kind module is a file|not a file URL this node can open/);
  });

  it('only files under the node\'s plan directory load: not outside it, not through a symlink out of it', async () => {
    const plans = tempDir();
    const outside = tempDir();
    const server = await startApiServer({ kernel: api.node.kernel, engine: api.node.engine, host: '127.0.0.1', port: 0, baseDir: plans.path });
    try {
      const kind = 'export const kind = "test.confined"; export const partitioners = { one: () => [1] }; export const executors = { run: (i) => i };\n';
      writeFileSync(join(outside.path, 'kind.mjs'), kind);
      mkdirSync(join(plans.path, 'kinds'));
      writeFileSync(join(plans.path, 'kinds', 'kind.mjs'), kind);
      symlinkSync(join(outside.path, 'kind.mjs'), join(plans.path, 'kinds', 'link.mjs'));
      const submit = (modules: string[]) =>
        fetch(`http://127.0.0.1:${server.port}/api/hxo/create-and-submit`, {
          method: 'POST',
          headers: { authorization: `Bearer ${api.tokens.admiral}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'confined', modules, stages: [{ id: 's', kind: 'test.confined' }] }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { message: string; details: { field: string } } } }));
      for (const modules of [[join(outside.path, 'kind.mjs')], [relative(plans.path, join(outside.path, 'kind.mjs'))], ['kinds/link.mjs'], [pathToFileURL(join(outside.path, 'kind.mjs')).href], ['kinds/kind.mjs', FLAKY_KIND]]) {
        const r = await submit(modules);
        expect(r.status, JSON.stringify(r.body)).toBe(422);
        expect(r.body.error?.message).toMatch(/^modules\[\d\]: .* is outside .*: a plan submitted over HTTP loads modules only from under the node's plan directory or XYN_MODULE_DIRS/);
      }
      expect((await submit(['kinds/kind.mjs'])).status).toBe(202);
    } finally {
      await server.close();
      plans.cleanup();
      outside.cleanup();
    }
  });

  it('a module under the plan directory (here the working directory) still loads', async () => {
    expect((await api.call('POST', '/api/hxo/create-and-submit', { body: flakyPlan('mod-inside', 'ok', 3) })).status).toBe(202);
  });
});

describe('files read by plans submitted over HTTP (a stage\'s config.root)', () => {
  it('only under the node\'s plan directory or XYN_INPUT_DIRS: not outside it, not through a symlink out of it', async () => {
    const plans = tempDir();
    const outside = tempDir();
    const allowed = tempDir();
    const node = await startApi({ XYN_INPUT_DIRS: allowed.path });
    const server = await startApiServer({ kernel: node.node.kernel, engine: node.node.engine, host: '127.0.0.1', port: 0, baseDir: plans.path });
    try {
      for (const dir of [join(plans.path, 'assets'), outside.path, allowed.path]) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'a.css'), 'a{}');
      }
      symlinkSync(outside.path, join(plans.path, 'link'));
      const submit = (root: string) =>
        fetch(`http://127.0.0.1:${server.port}/api/hxo/create-and-submit`, {
          method: 'POST',
          headers: { authorization: `Bearer ${node.tokens.admiral}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: `inputs-${root.length}`, stages: [{ id: 'assets', kind: 'assets.index', executor: 'index_assets', config: { root } }] }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { message: string; details: { field: string } } } }));
      for (const root of ['/etc', outside.path, relative(plans.path, outside.path), 'link', 'assets/../..']) {
        const r = await submit(root);
        expect(r.status, JSON.stringify(r.body)).toBe(422);
        expect(r.body.error?.details.field).toBe('stages[0].config.root');
        expect(r.body.error?.message).toMatch(/is outside .*: a plan submitted over HTTP reads files only from under the node's plan directory or XYN_INPUT_DIRS/);
      }
      for (const root of ['assets', allowed.path]) expect((await submit(root)).status).toBe(202);
    } finally {
      await server.close();
      await node.close();
      for (const d of [plans, outside, allowed]) d.cleanup();
    }
  });
});

describe('tokens in URLs', () => {
  it('?token= is 401 on every HTTP route, naming the Authorization header, even with a good token', async () => {
    for (const path of ['/api/hxo/plans', '/api/v1/events', '/api/v1/health', '/api/v1/tokens']) {
      const answer = await api.call('GET', `${path}?token=${api.tokens.admiral}`, { token: null });
      expectRefusal(answer, 401, /\?token= is accepted only on the stream \(\/api\/v1\/stream\); send the token in the Authorization header: "Authorization: Bearer <token>"/, { field: 'query.token' });
      // With the header too: the token in the URL is still refused (it is in a log by now).
      expect((await api.call('GET', `${path}?token=x`)).status).toBe(401);
    }
    expect((await api.call('GET', '/api/hxo/plans')).status).toBe(200);
  });
});

describe('HEAD', () => {
  it('answers as GET would, without a body: Content-Length of the GET body, and 405 lists HEAD where GET is allowed', async () => {
    const get = await fetch(`${api.url}/api/v1/health`);
    const getLength = Number(get.headers.get('content-length'));
    await get.arrayBuffer();
    const head = await fetch(`${api.url}/api/v1/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/json');
    // The health body's length varies by a digit or two with uptime; HEAD says a length and sends no byte of it.
    expect(Math.abs(Number(head.headers.get('content-length')) - getLength)).toBeLessThan(4);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    const missing = await fetch(`${api.url}/api/hxo/status/no-such-plan`, { method: 'HEAD', headers: { authorization: `Bearer ${api.tokens.admiral}` } });
    expect(missing.status).toBe(404);
    expect((await missing.arrayBuffer()).byteLength).toBe(0);
    const wrong = await api.call('DELETE', '/api/v1/events');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, POST, HEAD');
  });
});
