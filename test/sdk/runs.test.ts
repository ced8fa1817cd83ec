/**
 * XynClient's runs and emit against a real node with its run engine: a run
 * started, read, its gate approved; another cancelled; a webhook and an
 * emitted event each starting a run; refusals as ApiRefusedError with the
 * node's status and code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiRefusedError, XynClient } from '../../src/sdk/client.ts';
import { startApi, type TestApi } from '../api/helpers.ts';
import { waitFor } from '../kernel/helpers.ts';

let api: TestApi;
let node: XynClient;
beforeAll(async () => {
  api = await startApi({}, { hxo: false, runs: true });
  node = new XynClient({ url: api.url, token: api.tokens.operator });
  const admiral = { token: api.tokens.admiral };
  for (const bp of [
    { id: 'sdk.gated', name: 'SDK gated', trigger: { event_type: 'app.sdk.go' }, inputs: [{ name: 'n', required: false, default: 0 }], plan: [{ kind: 'gate', id: 'ok', mode: 'manual' }] },
    { id: 'sdk.hooked', name: 'SDK hooked', trigger: { event_type: 'xyn.hook.sdk' }, plan: [{ kind: 'transform', id: 't', outputs: { ok: true } }] },
  ]) {
    const saved = (await api.call('POST', '/api/v1/drafts', { ...admiral, body: { text: JSON.stringify(bp), file_name: 'bp.json' } })).body;
    await api.call('POST', `/api/v1/drafts/${saved.draft_id as string}/validate`, { ...admiral, body: {} });
    expect((await api.call('POST', `/api/v1/drafts/${saved.draft_id as string}/promote`, { ...admiral, body: { revision: 1 } })).status).toBe(200);
  }
});
afterAll(async () => {
  await api?.close();
});

describe('XynClient runs', () => {
  it('start → get → steps → approve; cancel; a second decision is ApiRefusedError 409', async () => {
    const run = await node.runs.start('sdk.gated@1', { inputs: { n: 2 }, name: 'by sdk' });
    expect(run).toMatchObject({ name: 'by sdk', blueprint_id: 'sdk.gated', inputs: { n: 2 }, actor: 'operator-user' });
    await waitFor(async () => (await node.runs.get(run.run_id)).waiting_on === 'ok', 10_000, 'the gate');
    expect((await node.runs.steps(run.run_id)).map((s) => s.status)).toEqual(['running']);
    expect(await node.runs.step(run.run_id, 'ok')).toMatchObject({ kind: 'gate', gate: { decision: 'waiting' } });
    expect(await node.runs.approve(run.run_id, 'ok', 'yes')).toMatchObject({ status: 'completed', gate: { decision: 'approved', by: 'operator-user', reason: 'yes' } });
    const refused = await node.runs.reject(run.run_id, 'ok').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ApiRefusedError);
    expect(refused).toMatchObject({ status: 409, apiCode: 'conflict' });

    const other = await node.runs.start('sdk.gated');
    await waitFor(async () => (await node.runs.get(other.run_id)).waiting_on === 'ok', 10_000, 'the gate');
    expect((await node.runs.cancel(other.run_id, 'enough')).status).toBe('cancelled');
    const page = await node.runs.list({ blueprint: 'sdk.gated', status: 'cancelled', limit: 10 });
    expect(page).toEqual({ items: [expect.objectContaining({ run_id: other.run_id })], next_cursor: null });
  });

  it('a hook and an emitted event each start a run of the blueprint they trigger', async () => {
    const hooked = await node.runs.hook('sdk', { from: 'sdk' });
    expect(hooked).toMatchObject({ event_name: 'xyn.hook.sdk' });
    const emitted = await node.emit('app.sdk.go', { n: 7 });
    expect(emitted).toMatchObject({ event_name: 'app.sdk.go', actor: 'operator-user' });
    await waitFor(async () => (await node.runs.list({ blueprint: 'sdk.hooked' })).items.length === 1, 10_000, 'a hooked run');
    await waitFor(async () => (await node.runs.list({ blueprint: 'sdk.gated' })).items.some((r) => r.trigger.event_seq === emitted.seq), 10_000, 'an event run');
    const [hookRun] = (await node.runs.list({ blueprint: 'sdk.hooked' })).items;
    expect(hookRun?.trigger).toEqual({ kind: 'hook', event_name: 'xyn.hook.sdk', event_seq: hooked.seq });
    const viewer = new XynClient({ url: api.url, token: api.tokens.viewer });
    await expect(viewer.runs.start('sdk.gated')).rejects.toMatchObject({ status: 403, apiCode: 'forbidden' });
  });
});
