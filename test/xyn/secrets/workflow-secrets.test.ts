/**
 * A secret through a real node, end to end: set with `xyn secret set` on the
 * data dir (then refused while `xyn serve` holds it), listed and set over
 * HTTP, used by a run's `http.call` as a bearer token against a local server
 * that checks it — and echoes it back, in an answer and in an error, so the
 * run has it to record. Then it is looked for everywhere the node keeps or
 * says things: every API answer (run, steps, events with the audit records,
 * the secrets listing), the node's log and stderr, and every byte of the data
 * dir (LMDB included: its store is opened without compression, and the
 * records are looked at decoded through the API too). It is nowhere; the
 * encrypted file holds it only encrypted.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { admiralToken, cliEnv, REPO_ROOT, startServe, type Serving } from '../../helpers/cli.ts';
import { serve, type TestServer } from '../../helpers/test-server.ts';
import { waitFor } from '../../kernel/helpers.ts';

const TOKEN = 'tok_live_7f3a9c1e5b2d4f6a8c0e';
const OTHER = 'second-secret-9d8c7b6a';
const KEY = 'a passphrase for this test only';
/** Every form of the secrets that must not appear: plain, base64 (how Basic and keys travel), hex. */
const FORBIDDEN = [TOKEN, OTHER].flatMap((v) => [v, Buffer.from(v).toString('base64').replace(/=+$/, ''), Buffer.from(v).toString('hex')]);

const tmp = mkdtempSync(join(tmpdir(), 'xyn-secrets-'));
const data = join(tmp, 'data');
const ENV = { XYN_SECRETS_KEY: KEY, XYN_WORKERS: '1' };
let node: Serving;
let admiral: string;
let upstream: TestServer;
const authorizations: (string | undefined)[] = [];

function xynWithStdin(args: string[], input: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: REPO_ROOT, env: cliEnv(ENV), input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every answer of the node's API, kept to be searched at the end. */
const answers: string[] = [];

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${node.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${admiral}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  answers.push(text);
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function ok(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const r = await api(method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function expectNoSecret(where: string, text: string | Buffer): void {
  for (const form of FORBIDDEN) expect(text.includes(form), `${where} holds ${form}`).toBe(false);
}

beforeAll(async () => {
  upstream = await serve((req, res) => {
    authorizations.push(req.headers.authorization);
    const echoed = JSON.stringify({ you_sent: req.headers.authorization ?? null });
    // /fail answers 500 with the header in its body: the step's error then holds it (body_excerpt).
    res.writeHead(req.headers.authorization === `Bearer ${TOKEN}` && !req.url?.startsWith('/fail') ? 200 : 500, { 'content-type': 'application/json' }).end(echoed);
  });
  // Set on the data dir before any node holds it.
  const set = xynWithStdin(['secret', 'set', 'api-token', '--data', data, '--meta', 'owner=ops'], `${TOKEN}\n`);
  expect(set.status, set.stderr).toBe(0);
  node = await startServe(data, 0, ENV);
  admiral = admiralToken(node);
}, 60_000);

afterAll(async () => {
  await upstream.close();
  if (node.child.exitCode === null) await node.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('secrets through a real node', () => {
  it('the CLI refuses the data dir a node holds, pointing at its API; it works through --url', () => {
    const refused = xynWithStdin(['secret', 'set', 'other', '--data', data], OTHER);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`--url ${node.url}`);
    const viaUrl = xynWithStdin(['secret', 'set', 'sys/local/other', '--url', node.url, '--token', admiral], OTHER);
    expect(viaUrl.status, viaUrl.stderr).toBe(0);
    const listed = xynWithStdin(['secret', 'list', '--url', node.url, '--token', admiral, '--prefix', 'sys/'], '');
    expect(listed.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { path: string }).path)).toEqual(['sys/local/other']);
  });

  it('over HTTP: set (201 then 200), list names and metadata only, refuse bad paths and bodies, delete', async () => {
    expect((await api('PUT', `/api/v1/secrets/${encodeURIComponent('team/t1/db')}`, { value: OTHER, metadata: { purpose: 'db' } })).status).toBe(201);
    expect(await ok('PUT', `/api/v1/secrets/${encodeURIComponent('team/t1/db')}`, { value: OTHER })).toEqual({ path: 'team/t1/db', created: false });
    const list = await ok('GET', '/api/v1/secrets');
    expect((list.items as { path: string }[]).map((i) => i.path)).toEqual(['api-token', 'sys/local/other', 'team/t1/db']);
    expect((list.items as { metadata: unknown }[])[0]?.metadata).toEqual({ owner: 'ops' });
    const badPath = await api('PUT', '/api/v1/secrets/Bad%20Name', { value: 'x-value' });
    expect(badPath.status).toBe(400);
    expect(JSON.stringify(badPath.body)).toContain('a secret path');
    expect((await api('PUT', '/api/v1/secrets/ok-name', { value: '' })).status).toBe(400);
    expect((await api('PUT', '/api/v1/secrets/ok-name', { value: 'v-value', extra: 1 })).status).toBe(400);
    expect((await api('GET', '/api/v1/secrets?prefix=UP')).status).toBe(400);
    expect(await ok('DELETE', `/api/v1/secrets/${encodeURIComponent('team/t1/db')}`)).toEqual({ path: 'team/t1/db', deleted: true });
    expect((await api('DELETE', `/api/v1/secrets/${encodeURIComponent('team/t1/db')}`)).status).toBe(404);
  });

  it('an operator token may neither list, set nor remove secrets', async () => {
    const made = await ok('POST', '/api/v1/tokens', { role: 'operator', principal: 'op' });
    for (const [method, path, body] of [
      ['GET', '/api/v1/secrets', undefined],
      ['PUT', '/api/v1/secrets/x-name', { value: 'v-value' }],
      ['DELETE', '/api/v1/secrets/api-token', undefined],
    ] as const) {
      const res = await fetch(`${node.url}${path}`, { method, headers: { authorization: `Bearer ${made.token as string}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      expect(res.status).toBe(403);
    }
  });

  it('a run calls with the bearer secret; the secret is nowhere the node records or answers', async () => {
    const blueprint = {
      id: 'bp.secret.call',
      name: 'Secret call',
      trigger: { event_type: 'test.secret' },
      plan: [
        { kind: 'action_task', id: 'call', action: 'http.call', with: { url: `${upstream.url}/ok`, auth: { bearer_ref: 'api-token' } } },
        { kind: 'action_task', id: 'fail', action: 'http.call', on_failure: 'continue', with: { url: `${upstream.url}/fail`, auth: { bearer_ref: 'api-token' } } },
        { kind: 'transform', id: 'echo', outputs: { said: '{{steps.call.outputs.json.you_sent}}' } },
        // An action that publishes by itself sees the earlier outputs scrubbed, as a step after a restart would.
        { kind: 'action_task', id: 'tell', action: 'events.emit', with: { name: 'test.told', data: { body: '{{steps.call.outputs.body}}' } } },
      ],
      outputs: [{ name: 'said', value: '{{steps.echo.outputs.said}}' }],
    };
    const saved = await ok('POST', '/api/v1/drafts', { text: stringify(blueprint) });
    await ok('POST', `/api/v1/drafts/${saved.draft_id as string}/validate`, {});
    await ok('POST', `/api/v1/drafts/${saved.draft_id as string}/promote`, { revision: saved.revision });
    const run = await ok('POST', '/api/v1/runs', { blueprint_ref: 'bp.secret.call' });
    const runId = run.run_id as string;
    let ended: Record<string, unknown> = {};
    await waitFor(async () => ['completed', 'failed'].includes((ended = await ok('GET', `/api/v1/runs/${runId}`)).status as string), 30_000, 'the run to end');

    // It did use the secret: the server got it, and the run went on with it.
    expect(authorizations).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    expect(ended).toMatchObject({ status: 'completed', outputs: { said: 'Bearer [redacted]' } });
    const steps = await ok('GET', `/api/v1/runs/${runId}/steps`);
    const byId = Object.fromEntries((steps.items as { step_id: string }[]).map((s) => [s.step_id, s as Record<string, unknown>]));
    expect(byId.call).toMatchObject({ status: 'completed', inputs: { auth: { bearer_ref: 'api-token' } }, outputs: { json: { you_sent: 'Bearer [redacted]' } } });
    expect(byId.fail).toMatchObject({ status: 'failed', error: { code: 'HTTP_STATUS', details: { body_excerpt: '{"you_sent":"Bearer [redacted]"}' } } });
    for (const id of ['call', 'fail', 'echo', 'tell']) await ok('GET', `/api/v1/runs/${runId}/steps/${id}`);
    const events = await ok('GET', `/api/v1/events?run_id=${runId}&limit=1000`);
    expect((events.items as unknown[]).length).toBeGreaterThan(5);
    const told = (events.items as { event_name: string; data: unknown }[]).find((e) => e.event_name === 'test.told');
    expect(told?.data).toMatchObject({ body: '{"you_sent":"Bearer [redacted]"}' });
    // The audit records (hxo.audit: secret.put, token.create ...) and every other event.
    const all = await ok('GET', '/api/v1/events?limit=1000');
    expect((all.items as { event_name: string; data: { operation?: string } }[]).filter((e) => e.event_name === 'hxo.audit').map((e) => e.data.operation)).toEqual(expect.arrayContaining(['secret.put', 'secret.delete']));
    await ok('GET', '/api/v1/secrets');

    for (const [i, answer] of answers.entries()) expectNoSecret(`API answer ${i}`, answer);
    await node.stop();
    expectNoSecret('the node log', node.logs());
    expectNoSecret("the node's stderr", node.stderr());
    const files = filesUnder(data);
    expect(files.some((f) => f.endsWith('secrets.enc'))).toBe(true);
    expect(files.some((f) => f.includes('store'))).toBe(true);
    for (const file of files) expectNoSecret(file, readFileSync(file));
  });
});
