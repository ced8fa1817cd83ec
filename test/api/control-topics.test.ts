/**
 * Roles over the node's control topics and namespaces, on a real node on
 * loopback driven over HTTP (and the WebSocket stream):
 *
 * - `genesis.intent` (the engine's auto-tuning policy) and `genesis.heal`
 *   (split a running plan's shard) need `hxo:plan` on top of the emit right:
 *   an operator is refused 403 naming it, and the policy / the plan stay as
 *   they were; an admiral's request is carried out (so the same assertions
 *   can fail) and audited;
 * - every name in a node-owned namespace, in any letter case, with or
 *   without trailing tokens, is refused to everyone (admirals included),
 *   naming the topic, the namespace and what to use instead.
 *
 * The plan is held running by a gate: its shards fetch a URL of this test,
 * answered only when the test says so.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_CAPABILITIES } from '../../src/api/auth.ts';
import type { XynEvent } from '../../src/core/event.ts';
import { FLAKY_KIND, waitForEvent } from '../hxo/helpers.ts';
import { startApi, type Answer, type TestApi } from './helpers.ts';

/** A URL whose answers are held until `release()`. */
interface Gate {
  url: string;
  release(): void;
  close(): Promise<void>;
}

async function openGate(): Promise<Gate> {
  const held: ServerResponse[] = [];
  let open = false;
  const server: Server = createServer((_req, res) => (open ? res.end('open') : held.push(res)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/gate`,
    release() {
      open = true;
      for (const res of held.splice(0)) res.end('open');
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let api: TestApi;
let gate: Gate;
beforeAll(async () => {
  gate = await openGate();
  // Auto-tuning stays quiet on its own: every change below is asked for.
  api = await startApi({ HXO_SHARD_TIMEOUT_MS: '600000', HXO_AUTOSPLIT_P95_MS: '3600000' });
});
afterAll(async () => {
  gate?.release();
  await api?.close();
  await gate?.close();
});

const emit = (token: string, event_name: string, data: Record<string, unknown>): Promise<Answer> => api.call('POST', '/api/v1/events', { token, body: { event_name, data } });

function expectRefused(answer: Answer, message: RegExp): Record<string, unknown> {
  expect(answer.status, JSON.stringify(answer.body)).toBe(403);
  const error = answer.body.error as { code: string; message: string; details: Record<string, unknown> };
  expect(error.code).toBe('forbidden');
  expect(error.message).toMatch(message);
  return error.details;
}

/** Events the log holds after `seq` under an exact name. */
const loggedAfter = (seq: number, name: string): XynEvent[] => api.node.kernel.events.read({ since: seq, limit: 100_000 }).filter((e) => e.event_name === name);

/** HXO's answer (`hxo.autotune.*` or `hxo.alert`) to the request event `eventId`. */
const answerTo = (eventId: string): Promise<XynEvent> => waitForEvent(api.node.kernel, 'hxo.>', (e) => e.data.request_event_id === eventId);

describe('control topics need the capability of what they make the node do', () => {
  it('the table: both control topics need hxo:plan, which only admirals have', () => {
    expect(CONTROL_CAPABILITIES).toEqual({
      'genesis.heal': { capability: 'hxo:plan', does: expect.stringMatching(/split/) as unknown },
      'genesis.intent': { capability: 'hxo:plan', does: expect.stringMatching(/auto-tuning policy/) as unknown },
    });
  });

  it("an operator's genesis.intent is refused and the engine's policy is unchanged; an admiral's is applied and audited", async () => {
    const policies = api.node.engine.autotune;
    const before = policies.for('any-plan');
    const probe = { source: 'probe', intent: 'autotune', parameters: { p95_ms: 1, split_factor: 64 } };
    const seq = api.node.kernel.bus.lastSeq;

    const details = expectRefused(await emit(api.tokens.operator, 'genesis.intent', probe), /^event_name: emitting genesis\.intent needs the hxo:plan capability \(it changes the engine's auto-tuning policy\); role operator does not have it$/);
    expect(details).toEqual({ field: 'event_name', topic: 'genesis.intent', capability: 'hxo:plan' });
    // Captains and viewers have no emit right at all: refused by the route, naming it.
    for (const role of ['captain', 'viewer'] as const) expectRefused(await emit(api.tokens[role], 'genesis.intent', probe), /xyn:events:emit/);
    // Nothing reached the bus, so nothing can change the policy later.
    expect(loggedAfter(seq, 'genesis.intent')).toEqual([]);
    expect(policies.for('any-plan')).toEqual(before);

    const allowed = await emit(api.tokens.admiral, 'genesis.intent', probe);
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(201);
    const applied = await answerTo(allowed.body.event_id as string);
    expect(applied.event_name).toBe('hxo.autotune.policy');
    expect(policies.for('any-plan')).toEqual({ ...before, p95_ms: 1, split_factor: 64 });
    const audit = loggedAfter(seq, 'hxo.audit').map((e) => e.data);
    expect(audit).toEqual([expect.objectContaining({ user: 'admiral-user', role: 'admiral', operation: 'event.emit', details: { event_name: 'genesis.intent', event_id: allowed.body.event_id } })]);

    // Put the node's policy back (the next test runs a plan under it).
    const restore = await emit(api.tokens.admiral, 'genesis.intent', { intent: 'autotune', parameters: { p95_ms: before.p95_ms, split_factor: before.split_factor } });
    await answerTo(restore.body.event_id as string);
    expect(policies.for('any-plan')).toEqual(before);

    // An intent for a plan that is not running is refused: it would be kept until that plan ends, maybe never.
    const stray = await emit(api.tokens.admiral, 'genesis.intent', { intent: 'autotune', plan_id: 'no-such-plan', parameters: { p95_ms: 1 } });
    const refused = await answerTo(stray.body.event_id as string);
    expect(refused.data).toMatchObject({ alert_type: 'intent_refused', message: 'plan no-such-plan is not running on this node' });
    expect(policies.for('no-such-plan')).toEqual(before);
  });

  it("an operator's genesis.heal of shard 999,999 of an admiral's running plan is refused and the plan is unchanged; an admiral's splits it", async () => {
    const plan = {
      name: 'million-held',
      modules: [FLAKY_KIND],
      stages: [{ id: 'spans', kind: 'test.flaky', partitioner: 'by_span', executor: 'gated', config: { total: 10_000_000, per: 10, url: gate.url } }],
    };
    const submitted = await api.call('POST', '/api/hxo/create-and-submit', { token: api.tokens.admiral, body: plan });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
    const planId = submitted.body.plan_id as string;
    const status = async () => (await api.call('GET', `/api/hxo/status/${planId}`, { token: api.tokens.operator })).body;
    expect(await status()).toMatchObject({ state: 'running', total_shards: 1_000_000 });

    const heal = { source: 'probe', plan_id: planId, action: 'split_shard', parameters: { stage_id: 'spans', shard_index: 999_999, split_factor: 2 } };
    const seq = api.node.kernel.bus.lastSeq;
    const details = expectRefused(await emit(api.tokens.operator, 'genesis.heal', heal), /^event_name: emitting genesis\.heal needs the hxo:plan capability \(it splits a running plan's shard\); role operator does not have it$/);
    expect(details.capability).toBe('hxo:plan');
    // The stream has no emit: a client frame trying one is refused and publishes nothing.
    expect(await streamFrame(api.tokens.operator, { op: 'emit', event_name: 'genesis.heal', data: heal })).toMatchObject({ type: 'error', error: { code: 'bad_request' } });
    expect(loggedAfter(seq, 'genesis.heal')).toEqual([]);
    expect(await status()).toMatchObject({ state: 'running', total_shards: 1_000_000 });

    const allowed = await emit(api.tokens.admiral, 'genesis.heal', heal);
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(201);
    const applied = await answerTo(allowed.body.event_id as string);
    expect(applied.event_name, JSON.stringify(applied.data)).toBe('hxo.autotune.applied');
    expect(applied.data).toMatchObject({ plan_id: planId, shard_index: 999_999, sub_shards: 2, first_leaf: 999_999, total_shards: 1_000_001 });
    expect(await status()).toMatchObject({ total_shards: 1_000_001 });
    expect(loggedAfter(seq, 'hxo.audit').map((e) => e.data.details)).toContainEqual({ event_name: 'genesis.heal', event_id: allowed.body.event_id, plan_id: planId });

    expect((await api.call('POST', `/api/hxo/abort/${planId}`, { token: api.tokens.admiral, body: {} })).status).toBe(202);
    gate.release();
    await api.node.engine.idle();
    expect(await status()).toMatchObject({ state: 'aborted' });
  });
});

/** The first frame the stream answers `frame` with. */
async function streamFrame(token: string, frame: unknown): Promise<Record<string, unknown>> {
  const ws = new WebSocket(`${api.url.replace('http', 'ws')}/api/v1/stream`, { headers: { authorization: `Bearer ${token}` } });
  try {
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const answer = new Promise<Record<string, unknown>>((resolve) => ws.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()) as Record<string, unknown>)));
    ws.send(JSON.stringify(frame));
    return await answer;
  } finally {
    ws.close();
  }
}

describe("the node's namespaces are refused to everyone, in any letter case", () => {
  it.each([
    ['hxo', 'hxo', 'app.hxo'],
    ['HXO', 'hxo', 'app.hxo'],
    ['hxo.x', 'hxo', 'app.x'],
    ['HXO.plan', 'hxo', 'app.plan'],
    ['Hxo.Plan.x', 'hxo', 'app.plan.x'],
    ['hxo.audit', 'hxo', 'app.audit'],
    ['xyn', 'xyn', 'app.xyn'],
    ['xyn.audit', 'xyn', 'app.audit'],
    ['XYN.audit', 'xyn', 'app.audit'],
    ['xyn.kernel.started', 'xyn', 'app.kernel.started'],
    ['xyn.api.listening', 'xyn', 'app.api.listening'],
    ['genesis', 'genesis', 'app.genesis'],
    ['genesis.other', 'genesis', 'app.other'],
  ])('%s → 403 naming the namespace %s and suggesting %s', async (name, namespace, suggestion) => {
    const seq = api.node.kernel.bus.lastSeq;
    const details = expectRefused(await emit(api.tokens.admiral, name, {}), new RegExp(`^event_name: "${name.replace(/\./g, '\\.')}" is in the node-owned namespace "${namespace}".*e\\.g\\. "${suggestion.replace(/\./g, '\\.')}"$`));
    expect(details).toEqual({ field: 'event_name', topic: name, namespace, suggestion });
    expect(loggedAfter(seq, name)).toEqual([]);
  });

  it.each([
    ['Genesis.Heal', 'genesis.heal'],
    ['GENESIS.INTENT', 'genesis.intent'],
    ['genesis.heal.x', 'genesis.heal'],
  ])('the control-topic look-alike %s → 403 pointing at %s', async (name, control) => {
    const details = expectRefused(await emit(api.tokens.admiral, name, {}), new RegExp(`emit "${control.replace('.', '\\.')}" exactly`));
    expect(details).toMatchObject({ namespace: 'genesis', suggestion: control });
  });

  it('property: any case variant of a node namespace, with or without trailing tokens, is refused 4xx; other names are accepted', async () => {
    const token = fc.stringMatching(/^[A-Za-z0-9_\-:]{1,8}$/);
    const caseVariant = (word: string) => fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length }).map((up) => [...word].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));
    const reserved = fc
      .tuple(fc.constantFrom('hxo', 'xyn', 'genesis').chain(caseVariant), fc.array(token, { maxLength: 3 }))
      .map(([first, rest]) => [first, ...rest].join('.'))
      .filter((name) => name !== 'genesis.heal' && name !== 'genesis.intent');
    await fc.assert(
      fc.asyncProperty(reserved, async (name) => {
        const answer = await emit(api.tokens.admiral, name, {});
        expect(answer.status, name).toBe(403);
        const details = (answer.body.error as { details: { namespace: string; topic: string } }).details;
        expect(details.topic).toBe(name);
        expect(details.namespace).toBe((name.split('.')[0] as string).toLowerCase());
      }),
      { numRuns: 150 },
    );
    // Look-alikes by token, not by prefix: these are names of the caller's own.
    for (const name of ['hxox.plan', 'app.hxo', 'xyn_audit', 'my.genesis.heal', 'genesisx']) {
      expect((await emit(api.tokens.operator, name, {})).status, name).toBe(201);
    }
  });
});
