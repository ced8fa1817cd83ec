/**
 * Issue 14's acceptance, over HTTP against a real `xyn serve` (a child
 * process): a blueprint from draft to promoted (a stale promote refused); an
 * emitted event starts its run, which calls a real HTTP server on loopback,
 * transforms its answer, waits at a gate until approved, certifies a
 * 100,000-shard HXO plan through hxo.submit and uses its Merkle root in a
 * later step; a rejected gate; cancels during a gate and during an HXO plan;
 * a run past its step limit; and the node SIGKILLed mid-run, started again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { admiralToken, startServe, type Serving } from '../../helpers/cli.ts';
import { serve, type TestServer } from '../../helpers/test-server.ts';
import { waitFor } from '../../kernel/helpers.ts';
import { computeHashPlan, specComputeHashRoot } from '../../hxo/helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'xyn-runs-'));
const data = join(tmp, 'data');
const ENV = { XYN_RUN_MAX_STEPS: '10', XYN_WORKERS: '2' };
let node: Serving;
let token: string;
let upstream: TestServer;
/** Requests to the upstream server, and the answers held back for those that asked to be held. */
const seen: string[] = [];
const held: ServerResponse[] = [];

beforeAll(async () => {
  upstream = await serve((req, res) => {
    seen.push(req.url ?? '');
    if (req.url?.startsWith('/hold')) {
      held.push(res);
      return;
    }
    const host = new URL(req.url ?? '/', 'http://x').searchParams.get('host');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ host, load: 7.5, services: ['ssh', 'web'] }));
  });
  node = await startServe(data, 0, ENV);
  token = admiralToken(node);
}, 60_000);

afterAll(async () => {
  for (const res of held.splice(0)) res.end();
  await upstream.close();
  if (node.child.exitCode === null) await node.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${node.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function ok(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const r = await api(method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function promote(bp: Record<string, unknown>): Promise<void> {
  const saved = await ok('POST', '/api/v1/drafts', { text: stringify(bp) });
  const checked = await ok('POST', `/api/v1/drafts/${saved.draft_id as string}/validate`, {});
  expect((checked.report as { is_valid: boolean }).is_valid).toBe(true);
  await ok('POST', `/api/v1/drafts/${saved.draft_id as string}/promote`, { revision: saved.revision });
}

type Run = { run_id: string; status: string; waiting_on: string | null; outputs: Record<string, unknown> | null; error: Record<string, unknown> | null; correlation_id: string };

/** The one run of `blueprint` whose correlation id is the event's, once `until` holds for it. */
async function runOf(blueprint: string, correlationId: string, until: (r: Run) => boolean, timeoutMs = 30_000): Promise<Run> {
  let found: Run | undefined;
  await waitFor(
    async () => {
      const page = await ok('GET', `/api/v1/runs?blueprint=${blueprint}&limit=100`);
      found = (page.items as Run[]).find((r) => r.correlation_id === correlationId);
      return found !== undefined && until(found);
    },
    timeoutMs,
    `a run of ${blueprint} for ${correlationId}`,
  );
  return found as Run;
}

async function emit(name: string, data: Record<string, unknown>): Promise<string> {
  const event = await ok('POST', '/api/v1/events', { event_name: name, data });
  return event.correlation_id as string;
}

const ended = (r: Run) => ['completed', 'failed', 'cancelled'].includes(r.status);

const incident = {
  id: 'bp.incident.triage',
  name: 'Incident triage',
  trigger: { event_type: 'app.incident.*' },
  inputs: [{ name: 'host' }, { name: 'url' }],
  plan: [
    { kind: 'action_task', id: 'probe', action: 'http.call', with: { url: '{{inputs.url}}/status?host={{inputs.host}}' } },
    { kind: 'transform', id: 'assess', outputs: { severity: "{{ steps.probe.outputs.json.load > 5 ? 'high' : 'low' }}", services: '{{ length(steps.probe.outputs.json.services) }}' } },
    { kind: 'gate', id: 'approve', mode: 'manual' },
    { kind: 'action_task', id: 'certify', action: 'hxo.submit', with: { plan: computeHashPlan('incident-proof', 100_000) } },
    { kind: 'transform', id: 'record', outputs: { note: 'root {{steps.certify.outputs.merkle_root}} for {{inputs.host}}', certified: '{{steps.certify.outputs.truth_certified}}' } },
  ],
  outputs: [
    { name: 'severity', value: '{{steps.assess.outputs.severity}}' },
    { name: 'root', value: '{{steps.certify.outputs.merkle_root}}' },
    { name: 'note', value: '{{steps.record.outputs.note}}' },
  ],
};

describe('a workflow over HTTP on a real node', () => {
  it('draft → validated → promoted; a stale revision is refused', async () => {
    const first = await ok('POST', '/api/v1/drafts', { text: stringify({ ...incident, name: 'first' }) });
    await ok('POST', `/api/v1/drafts/${first.draft_id as string}/validate`, {});
    const second = await ok('POST', '/api/v1/drafts', { draft_id: first.draft_id, text: stringify(incident) });
    expect(second.revision).toBe(2);
    const stale = await api('POST', `/api/v1/drafts/${first.draft_id as string}/promote`, { revision: 1 });
    expect(stale.status).toBe(409);
    expect((stale.body.error as { message: string }).message).toMatch(/revision 1 is stale/);
    await ok('POST', `/api/v1/drafts/${first.draft_id as string}/validate`, {});
    const promoted = await ok('POST', `/api/v1/drafts/${first.draft_id as string}/promote`, { revision: 2 });
    expect(promoted).toMatchObject({ blueprint_id: 'bp.incident.triage', version: 1 });
  });

  it('an event starts the run: HTTP call, transform, gate approved, a 100,000-shard plan certified, its root used later', async () => {
    const corr = await emit('app.incident.opened', { host: 'db1', url: upstream.url, extra: 'ignored' });
    const waiting = await runOf('bp.incident.triage', corr, (r) => r.waiting_on === 'approve');
    expect(waiting.status).toBe('running');
    const assess = await ok('GET', `/api/v1/runs/${waiting.run_id}/steps/assess`);
    expect(assess).toMatchObject({ status: 'completed', outputs: { severity: 'high', services: 2 } });
    expect(seen).toContain('/status?host=db1');

    const approved = await ok('POST', `/api/v1/runs/${waiting.run_id}/steps/approve/approve`, { reason: 'load is real' });
    expect(approved).toMatchObject({ status: 'completed', outputs: { approved: true, reason: 'load is real' } });
    const done = await runOf('bp.incident.triage', corr, ended, 120_000);
    expect(done.status).toBe('completed');
    const root = specComputeHashRoot(100_000);
    expect(done.outputs).toEqual({ severity: 'high', root, note: `root ${root} for db1` });
    const steps = (await ok('GET', `/api/v1/runs/${done.run_id}/steps`)).items as { step_id: string; status: string }[];
    expect(steps.map((s) => `${s.step_id}:${s.status}`)).toEqual(['probe:completed', 'assess:completed', 'approve:completed', 'certify:completed', 'record:completed']);
    const events = (await ok('GET', `/api/v1/events?run_id=${done.run_id}&limit=100`)).items as { event_name: string; correlation_id: string }[];
    expect(events.map((e) => e.event_name)).toEqual(expect.arrayContaining(['xyn.run.created', 'xyn.run.started', 'xyn.step.waiting', 'xyn.step.completed', 'xyn.run.completed']));
    expect(new Set(events.map((e) => e.correlation_id))).toEqual(new Set([corr]));
  }, 180_000);

  it('a rejected gate fails the run with who and why', async () => {
    const corr = await emit('app.incident.opened', { host: 'db2', url: upstream.url });
    const waiting = await runOf('bp.incident.triage', corr, (r) => r.waiting_on === 'approve');
    await ok('POST', `/api/v1/runs/${waiting.run_id}/steps/approve/reject`, { reason: 'false alarm' });
    const done = await runOf('bp.incident.triage', corr, ended);
    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ code: 'GATE_REJECTED', step_id: 'approve' });
    expect(String(done.error?.message)).toMatch(/false alarm/);
  });

  it('a cancel while the gate waits', async () => {
    const corr = await emit('app.incident.opened', { host: 'db3', url: upstream.url });
    const waiting = await runOf('bp.incident.triage', corr, (r) => r.waiting_on === 'approve');
    const cancelled = await ok('POST', `/api/v1/runs/${waiting.run_id}/cancel`, { reason: 'duplicate' });
    expect(cancelled.status).toBe('cancelled');
    const again = await api('POST', `/api/v1/runs/${waiting.run_id}/steps/approve/approve`, {});
    expect(again.status).toBe(409);
  });

  it('a cancel during the HXO plan aborts the plan', async () => {
    await promote({
      id: 'bp.big.proof',
      name: 'Big proof',
      trigger: { event_type: 'app.proof.requested' },
      plan: [{ kind: 'action_task', id: 'certify', action: 'hxo.submit', with: { plan: computeHashPlan('big-proof', 1_000_000, { config: { total: 1_000_000, per_shard: 1, rounds: 20 } }) } }],
    });
    const corr = await emit('app.proof.requested', {});
    const running = await runOf('bp.big.proof', corr, (r) => r.status === 'running');
    let planId: string | undefined;
    await waitFor(
      async () => {
        const events = (await ok('GET', '/api/v1/events?event_name=hxo.plan&limit=500')).items as { correlation_id: string; data: { plan_id: string } }[];
        planId = events.find((e) => e.correlation_id === corr)?.data.plan_id;
        return planId !== undefined;
      },
      30_000,
      'the plan submitted',
    );
    const cancelled = await ok('POST', `/api/v1/runs/${running.run_id}/cancel`, {});
    expect(cancelled.status).toBe('cancelled');
    await waitFor(async () => (await ok('GET', `/api/hxo/status/${planId as string}`)).state === 'aborted', 30_000, 'the plan aborted');
  }, 60_000);

  it('a run past its step limit (XYN_RUN_MAX_STEPS=10) fails naming it', async () => {
    await promote({
      id: 'bp.long',
      name: 'Long',
      trigger: { event_type: 'app.long.go' },
      plan: Array.from({ length: 12 }, (_, i) => ({ kind: 'transform', id: `s${i}`, outputs: { i } })),
    });
    const corr = await emit('app.long.go', {});
    const done = await runOf('bp.long', corr, ended);
    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ code: 'RUN_STEP_LIMIT', step_id: 's10' });
  });

  it('malformed requests are 4xx, never 5xx', async () => {
    const cases: [string, string, unknown][] = [
      ['GET', '/api/v1/runs?status=sleeping', undefined],
      ['GET', '/api/v1/runs?cursor=nope', undefined],
      ['GET', '/api/v1/runs/not-a-uuid', undefined],
      ['GET', '/api/v1/runs/01234567-89ab-7def-8123-456789abcdef', undefined],
      ['POST', '/api/v1/runs', { blueprint_ref: 'bp.nope' }],
      ['POST', '/api/v1/runs', { blueprint_ref: 'bp.incident.triage', inputs: { host: 'x' } }],
      ['POST', '/api/v1/runs', { blueprint_ref: 42 }],
      ['POST', '/api/v1/runs', 'not json'],
      ['POST', '/api/v1/runs/01234567-89ab-7def-8123-456789abcdef/cancel', {}],
      ['POST', '/api/v1/runs/01234567-89ab-7def-8123-456789abcdef/steps/x/approve', {}],
      ['POST', '/api/v1/hooks/bad..name', {}],
      ['POST', '/api/v1/hooks/deploy', [1, 2]],
    ];
    for (const [method, path, body] of cases) {
      const r = await api(method, path, body);
      expect(r.status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`).toBeGreaterThanOrEqual(400);
      expect(r.status, `${method} ${path}`).toBeLessThan(500);
    }
  });

  it('a node SIGKILLed mid-run goes on when started again: a waiting gate still waits, a GET in flight is sent again', async () => {
    await promote({
      id: 'bp.survive',
      name: 'Survive',
      trigger: { event_type: 'app.survive.*' },
      inputs: [{ name: 'url' }, { name: 'mode' }],
      plan: [
        { kind: 'action_task', id: 'fetch', when: "inputs.mode == 'fetch'", action: 'http.call', with: { url: '{{inputs.url}}/hold' } },
        { kind: 'gate', id: 'approve', mode: 'manual', when: "inputs.mode == 'gate'" },
        { kind: 'transform', id: 'done', outputs: { mode: '{{inputs.mode}}' } },
      ],
      outputs: [{ name: 'mode', value: '{{steps.done.outputs.mode}}' }],
    });
    const gateCorr = await emit('app.survive.gate', { url: upstream.url, mode: 'gate' });
    const fetchCorr = await emit('app.survive.fetch', { url: upstream.url, mode: 'fetch' });
    const gated = await runOf('bp.survive', gateCorr, (r) => r.waiting_on === 'approve');
    await waitFor(() => seen.filter((u) => u === '/hold').length === 1, 30_000, 'the held GET');
    const fetching = await runOf('bp.survive', fetchCorr, (r) => r.status === 'running');

    node.child.kill('SIGKILL');
    await new Promise((resolve) => node.child.once('exit', resolve));
    for (const res of held.splice(0)) res.destroy();
    node = await startServe(data, 0, ENV);

    await waitFor(() => seen.filter((u) => u === '/hold').length === 2, 30_000, 'the GET sent again after the restart');
    for (const res of held.splice(0)) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    const fetched = await runOf('bp.survive', fetchCorr, ended);
    expect(fetched).toMatchObject({ run_id: fetching.run_id, status: 'completed', outputs: { mode: 'fetch' } });

    expect((await runOf('bp.survive', gateCorr, (r) => r.waiting_on === 'approve')).run_id).toBe(gated.run_id);
    await ok('POST', `/api/v1/runs/${gated.run_id}/steps/approve/approve`, {});
    expect(await runOf('bp.survive', gateCorr, ended)).toMatchObject({ status: 'completed', outputs: { mode: 'gate' } });
  }, 120_000);
});
