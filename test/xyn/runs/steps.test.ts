/**
 * Runs against real counterparts: http.call to servers on 127.0.0.1 (retries,
 * timeouts, cancel while it waits), `when`, `on_failure`, the rails, and a
 * node stopped mid-step and started again on the same data dir.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serve, type TestServer } from '../../helpers/test-server.ts';
import { waitFor } from '../../kernel/helpers.ts';
import { workflowNodes, type WorkflowNode } from './helpers.ts';
import { computeHashPlan, specComputeHashRoot } from '../../hxo/helpers.ts';

const start = workflowNodes();
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

type Step = Record<string, unknown>;
let n = 0;
function blueprint(plan: Step[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: `bp.s.t${++n}`, name: 'steps test', trigger: { event_type: `app.never.${n}` }, inputs: [{ name: 'url', required: false, default: '' }], plan, ...extra };
}

async function runOf(w: WorkflowNode, bp: Record<string, unknown>, inputs: Record<string, unknown> = {}) {
  await w.promote(bp);
  return w.runs.create({ blueprint_id: bp.id as string, inputs, actor: 'test', trigger: { kind: 'manual' } });
}

/** A server that holds each request until released; `arrived` resolves with each as it comes. */
async function holding(): Promise<{ server: TestServer; arrivals: IncomingMessage[]; release(status?: number): void }> {
  const held: ServerResponse[] = [];
  const arrivals: IncomingMessage[] = [];
  const s = await serve((req, res) => {
    arrivals.push(req);
    held.push(res);
  });
  return {
    server: s,
    arrivals,
    release: (status = 200) => {
      for (const res of held.splice(0)) res.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}');
    },
  };
}

describe('action steps', () => {
  it('retries an idempotent GET on 503 with backoff, then completes; attempts recorded', async () => {
    let calls = 0;
    server = await serve((_req, res) => {
      calls++;
      res.writeHead(calls < 3 ? 503 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ calls }));
    });
    const w = await start();
    const run = await runOf(w, blueprint([{ kind: 'action_task', id: 'get', action: 'http.call', with: { url: '{{inputs.url}}' }, retries: 3, backoff: '1ms' }], { outputs: [{ name: 'calls', value: '{{steps.get.outputs.json.calls}}' }] }), { url: server.url });
    const ended = await w.runs.ended(run.run_id);
    expect(ended.status).toBe('completed');
    expect(ended.outputs).toEqual({ calls: 3 });
    expect(w.runs.step(run.run_id, 'get')).toMatchObject({ status: 'completed', attempts: 3 });
  });

  it('does not retry a POST (not idempotent), and says why', async () => {
    let calls = 0;
    server = await serve((_req, res) => {
      calls++;
      res.writeHead(503).end('busy');
    });
    const w = await start();
    const run = await runOf(w, blueprint([{ kind: 'action_task', id: 'post', action: 'http.call', with: { url: '{{inputs.url}}', method: 'POST', body: { a: 1 } }, retries: 3, backoff: '1ms' }]), { url: server.url });
    const ended = await w.runs.ended(run.run_id);
    expect(ended.status).toBe('failed');
    expect(calls).toBe(1);
    expect(ended.error).toMatchObject({ code: 'HTTP_STATUS', step_id: 'post' });
    expect(String((ended.error?.details as Record<string, unknown>).not_retried)).toMatch(/not idempotent/);
  });

  it('a step past its timeout fails ACTION_TIMEOUT; on_failure: continue lets the run go on', async () => {
    const h = await holding();
    server = h.server;
    const w = await start();
    const run = await runOf(
      w,
      blueprint([
        { kind: 'action_task', id: 'slow', action: 'http.call', with: { url: '{{inputs.url}}' }, timeout: '50ms', on_failure: 'continue' },
        { kind: 'transform', id: 'after', outputs: { went_on: true } },
      ]),
      { url: server.url },
    );
    const ended = await w.runs.ended(run.run_id);
    expect(ended.status).toBe('completed');
    expect(w.runs.step(run.run_id, 'slow')).toMatchObject({ status: 'failed', error: { code: 'ACTION_TIMEOUT' } });
    expect(w.runs.step(run.run_id, 'after').outputs).toEqual({ went_on: true });
    h.release();
  });

  it('when: a false condition skips the step, a true one runs it', async () => {
    const w = await start();
    const run = await runOf(
      w,
      blueprint([
        { kind: 'transform', id: 'a', outputs: { n: 2 } },
        { kind: 'transform', id: 'skipped', when: 'steps.a.outputs.n == 3', outputs: { x: 1 } },
        { kind: 'transform', id: 'ran', when: '{{ steps.a.outputs.n >= 2 }}', outputs: { x: 2 } },
      ]),
    );
    const ended = await w.runs.ended(run.run_id);
    expect(ended.status).toBe('completed');
    expect(w.runs.steps(run.run_id).map((s) => s.status)).toEqual(['completed', 'skipped', 'completed']);
  });
});

describe('cancel and rails', () => {
  it('cancel while an action waits: the request is aborted, the run ends cancelled', async () => {
    const h = await holding();
    server = h.server;
    const w = await start();
    const run = await runOf(w, blueprint([{ kind: 'action_task', id: 'wait', action: 'http.call', with: { url: '{{inputs.url}}' } }]), { url: server.url });
    await waitFor(() => h.arrivals.length === 1, 5_000, 'the request');
    const cancelled = await w.runs.cancel(run.run_id, 'ana', 'changed my mind');
    expect(cancelled).toMatchObject({ status: 'cancelled', error: { code: 'RUN_CANCELLED', details: { by: 'ana', reason: 'changed my mind' } } });
    expect(w.runs.step(run.run_id, 'wait')).toMatchObject({ status: 'failed', error: { code: 'RUN_CANCELLED', step_id: 'wait' } });
    await expect(w.runs.cancel(run.run_id, 'ana', null)).rejects.toThrow(/already ended cancelled/);
  });

  it('cancel while a gate waits', async () => {
    const w = await start();
    const run = await runOf(w, blueprint([{ kind: 'gate', id: 'ok', mode: 'manual' }]));
    await waitFor(() => w.runs.get(run.run_id).waiting_on === 'ok', 5_000, 'the gate');
    expect((await w.runs.cancel(run.run_id, 'ana', null)).status).toBe('cancelled');
    await expect(w.runs.decide(run.run_id, 'ok', 'approved', 'ana', null)).rejects.toThrow(/not waiting for a decision: the run has ended cancelled/);
  });

  it("a gate with no decision within its timeout fails GATE_TIMEOUT", async () => {
    const w = await start();
    const run = await runOf(w, blueprint([{ kind: 'gate', id: 'ok', mode: 'manual', timeout: '100ms' }]));
    const ended = await w.runs.ended(run.run_id);
    expect(ended.status).toBe('failed');
    expect(ended.error).toMatchObject({ code: 'GATE_TIMEOUT', step_id: 'ok' });
  });

  it('a run past XYN_RUN_MAX_STEPS fails naming the limit', async () => {
    const w = await start({ XYN_RUN_MAX_STEPS: '2' });
    const run = await runOf(w, blueprint([1, 2, 3].map((i) => ({ kind: 'transform', id: `s${i}`, outputs: { i } }))));
    const ended = await w.runs.ended(run.run_id);
    expect(ended.status).toBe('failed');
    expect(ended.error).toMatchObject({ code: 'RUN_STEP_LIMIT', step_id: 's3' });
    expect(ended.error?.message).toMatch(/limit of 2 steps \(XYN_RUN_MAX_STEPS\)/);
    expect(w.runs.steps(run.run_id).map((s) => s.status)).toEqual(['completed', 'completed', 'created']);
  });

  it('a run past XYN_RUN_MAX_WALL_MS fails, its action aborted', async () => {
    const h = await holding();
    server = h.server;
    const w = await start({ XYN_RUN_MAX_WALL_MS: '200' });
    const run = await runOf(w, blueprint([{ kind: 'action_task', id: 'long', action: 'http.call', with: { url: '{{inputs.url}}' } }]), { url: server.url });
    const ended = await w.runs.ended(run.run_id);
    expect(ended.status).toBe('failed');
    expect(ended.error).toMatchObject({ code: 'RUN_WALL_CLOCK', step_id: 'long' });
  });
});

describe('a node stopped mid-run', () => {
  it('during hxo.submit: the plan resumes with the node, the step joins it, the run completes with its certified root', async () => {
    const w = await start({}, { engine: true });
    const total = 300_000;
    const run = await runOf(w, blueprint([{ kind: 'action_task', id: 'certify', action: 'hxo.submit', with: { plan: computeHashPlan('halted-proof', total) } }], { outputs: [{ name: 'root', value: '{{steps.certify.outputs.merkle_root}}' }] }));
    // Stopped once the plan has shards done: it is unfinished, not aborted.
    let planId: string | undefined;
    await waitFor(() => {
      planId = w.node.kernel.bus.queryHistory({ topic: 'hxo.plan' }).find((e) => e.correlation_id === run.correlation_id)?.data.plan_id as string | undefined;
      return planId !== undefined && (w.node.engine?.status(planId).done_shards ?? 0) > 0;
    }, 30_000, 'the plan under way');
    await w.stop();
    const again = await start({}, { dir: w.dir, engine: true });
    const ended = await again.runs.ended(run.run_id);
    expect(ended.status).toBe('completed');
    expect(ended.outputs).toEqual({ root: specComputeHashRoot(total) });
    expect(again.runs.step(run.run_id, 'certify').attempts).toBe(2);
    expect(again.node.engine?.status(planId as string).state).toBe('certified');
  }, 120_000);

  it('goes on after a restart: a GET step runs again, a POST step fails as not re-runnable, a gate still waits', async () => {
    const h = await holding();
    server = h.server;
    const w = await start();
    const get = await runOf(w, blueprint([{ kind: 'action_task', id: 'get', action: 'http.call', with: { url: '{{inputs.url}}' } }]), { url: server.url });
    const post = await runOf(w, blueprint([{ kind: 'action_task', id: 'post', action: 'http.call', with: { url: '{{inputs.url}}', method: 'POST' } }]), { url: server.url });
    const gate = await runOf(w, blueprint([{ kind: 'transform', id: 'a', outputs: { x: 1 } }, { kind: 'gate', id: 'ok', mode: 'manual' }, { kind: 'transform', id: 'b', outputs: { y: '{{steps.a.outputs.x}}' } }]));
    await waitFor(() => h.arrivals.length === 2 && w.runs.get(gate.run_id).waiting_on === 'ok', 5_000, 'both requests and the gate');
    await w.stop();

    const again = await start({}, { dir: w.dir });
    expect(new Set(again.node.resumedRuns)).toEqual(new Set([get.run_id, post.run_id, gate.run_id]));
    const failed = await again.runs.ended(post.run_id);
    expect(failed.error).toMatchObject({ code: 'STEP_NOT_RERUNNABLE', step_id: 'post' });
    await waitFor(() => h.arrivals.length === 3, 5_000, 'the GET sent again');
    h.release();
    expect((await again.runs.ended(get.run_id)).status).toBe('completed');
    expect(again.runs.step(get.run_id, 'get').attempts).toBe(2);
    await waitFor(() => again.runs.get(gate.run_id).waiting_on === 'ok', 5_000, 'the gate waiting again');
    await again.runs.decide(gate.run_id, 'ok', 'approved', 'ana', null);
    const done = await again.runs.ended(gate.run_id);
    expect(done.status).toBe('completed');
    expect(again.runs.step(gate.run_id, 'b').outputs).toEqual({ y: 1 });
  });
});
