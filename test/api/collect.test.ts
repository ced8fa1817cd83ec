/**
 * DELETE /api/hxo/plans/{id}: an ended plan's checkpoints, outputs and the
 * artifacts only it refers to are collected now, audited; its report stays;
 * every refusal in the standard shape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeHashPlan } from '../hxo/helpers.ts';
import { startApi, type TestApi } from './helpers.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.close();
});

describe('DELETE /api/hxo/plans/{id}', () => {
  it('collects an ended plan (its report stays), says what it freed, and audits it; refusals are 4xx', async () => {
    const submitted = await api.call('POST', '/api/hxo/create-and-submit', { body: computeHashPlan('to-collect', 2000) });
    expect(submitted.status).toBe(202);
    const planId = submitted.body.plan_id as string;
    await api.node.engine.idle();

    expect((await api.call('DELETE', `/api/hxo/plans/${planId}`, { token: api.tokens.operator })).status).toBe(403);
    const collected = await api.call('DELETE', `/api/hxo/plans/${planId}`);
    expect(collected.status).toBe(200);
    expect(collected.body).toMatchObject({ plan_id: planId, plan_name: 'to-collect', reason: 'asked for', shards: 2000, artifacts: 0 });
    expect(collected.body.checkpoint_bytes).toBeGreaterThan(2000 * 100);

    const report = await api.call('GET', `/api/hxo/report/${planId}`);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ plan_id: planId, state: 'certified', truth_certified: true });
    const shards = await api.call('GET', `/api/hxo/plans/${planId}/shards`);
    expect(shards.status).toBe(410);
    expect(shards.body.error).toMatchObject({ code: 'gone' });
    const again = await api.call('DELETE', `/api/hxo/plans/${planId}`);
    expect(again.status).toBe(410);
    expect((await api.call('DELETE', '/api/hxo/plans/no-such-plan')).status).toBe(404);

    await api.node.kernel.bus.flushed();
    const record = api.node.kernel.bus.queryHistory({ topic: 'hxo.audit', limit: 1000 }).find((e) => (e.data as { operation?: string }).operation === 'plan.collect');
    expect(record?.data).toMatchObject({ user: 'admiral-user', role: 'admiral', operation: 'plan.collect', details: { plan_id: planId, shards: 2000 } });
  });

  it('refuses a running plan (409)', async () => {
    const submitted = await api.call('POST', '/api/hxo/create-and-submit', { body: computeHashPlan('running', 300_000) });
    const planId = submitted.body.plan_id as string;
    const refused = await api.call('DELETE', `/api/hxo/plans/${planId}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'conflict' });
    expect(String((refused.body.error as { message: string }).message)).toMatch(/only an ended plan can be collected/);
    await api.node.engine.idle();
  }, 60_000);
});
