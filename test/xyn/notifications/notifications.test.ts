/**
 * Notifications on a real serving node (run engine, notifier, API on
 * 127.0.0.1) through the real client: a failing run raises exactly one
 * (naming the run and the step), a step with `on_failure: continue` one
 * warning, an `hxo.alert` one of its severity, the notifier's own events
 * none; a burst of like failures collapses into one, counted; acks by who
 * may (403, 409, 404, 400 otherwise) on the audit trail; lists filtered and
 * paged; the webhook target receiving each, signed.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/kernel/config.ts';
import { ApiRefusedError } from '../../../src/sdk/client.ts';
import { webhookSignature, type NotificationRecord } from '../../../src/xyn/notifications/index.ts';
import { serve, type TestServer } from '../../helpers/test-server.ts';
import { waitFor } from '../../kernel/helpers.ts';
import { notifyingNodes, type NotifyingNode } from './helpers.ts';

const start = notifyingNodes();
const SECRET = 'test-webhook-secret';

const FAILING = {
  id: 'notify.failing',
  name: 'Failing',
  trigger: { event_type: 'app.notify.never' },
  inputs: [{ name: 'url' }],
  plan: [
    { kind: 'transform', id: 'first', outputs: { ok: true } },
    { kind: 'action_task', id: 'fetch', action: 'http.call', with: { url: '{{inputs.url}}' } },
  ],
};
const BURSTING = { ...FAILING, id: 'notify.bursting', name: 'Bursting' };
const CONTINUING = {
  id: 'notify.continuing',
  name: 'Continuing',
  trigger: { event_type: 'app.notify.never' },
  inputs: [{ name: 'url' }],
  plan: [
    { kind: 'action_task', id: 'soft', action: 'http.call', with: { url: '{{inputs.url}}' }, on_failure: 'continue' },
    { kind: 'transform', id: 'after', outputs: { ok: true } },
  ],
};

let w: NotifyingNode;
let hook: TestServer;
const received: { headers: IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  hook = await serve((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  w = await start({ XYN_NOTIFY_WEBHOOK_URL: `${hook.url}/hook`, XYN_NOTIFY_WEBHOOK_SECRET: SECRET, XYN_NOTIFY_WEBHOOK_BACKOFF_MS: '10' });
  for (const bp of [FAILING, BURSTING, CONTINUING]) await w.promote(bp);
  return () => hook.close();
});

async function failedRun(blueprintId: string): Promise<string> {
  const run = await w.runs.create({ blueprint_id: blueprintId, inputs: { url: 'not a url' }, actor: 'test', trigger: { kind: 'manual' } });
  expect((await w.runs.ended(run.run_id)).status).toBe('failed');
  return run.run_id;
}

const all = (): NotificationRecord[] => w.notifier.book.list({ limit: 500 }).items;
const raisedEventsOf = (id: string) => w.node.kernel.bus.queryHistory({ topic: 'xyn.notify.raised' }).filter((e) => e.data.notification_id === id);

describe('what raises a notification', () => {
  it('a failing run raises exactly one, naming the run and the step; xyn.notify.raised once; the webhook gets it, signed', async () => {
    const runId = await failedRun(FAILING.id);
    await w.settled();
    const mine = all().filter((n) => n.run_id === runId);
    expect(mine).toHaveLength(1);
    const n = mine[0] as NotificationRecord;
    const run = w.runs.get(runId);
    expect(n).toMatchObject({ status: 'open', severity: 'error', event_name: 'xyn.run.failed', step_id: 'fetch', blueprint_id: FAILING.id, correlation_id: run.correlation_id, count: 1, acked_at: null });
    expect(n.title).toMatch(/notify\.failing failed at step fetch/);
    expect(n.summary).toContain(run.error?.code as string);
    await waitFor(() => raisedEventsOf(n.notification_id).length === 1, 5_000, 'xyn.notify.raised');
    expect(raisedEventsOf(n.notification_id)[0]?.run_id).toBe(runId);

    await waitFor(() => received.some((r) => r.headers['x-xyn-notification-id'] === n.notification_id), 5_000, 'the webhook delivery');
    const delivery = received.find((r) => r.headers['x-xyn-notification-id'] === n.notification_id) as (typeof received)[number];
    expect(delivery.headers['x-xyn-signature']).toBe(webhookSignature(SECRET, delivery.body));
    expect(JSON.parse(delivery.body)).toMatchObject({ notification_id: n.notification_id, run_id: runId, step_id: 'fetch', severity: 'error' });
    expect(delivery.body).not.toContain(SECRET);
    await waitFor(async () => (await w.clients.viewer.notifications.get(n.notification_id)).webhook?.status === 'delivered', 5_000, 'the delivery recorded');
    expect((await w.clients.viewer.notifications.get(n.notification_id)).webhook).toMatchObject({ status: 'delivered', attempts: 1, last_error: null });
  });

  it('a step failing with on_failure: continue raises one warning for the step, and the completed run none', async () => {
    const run = await w.runs.create({ blueprint_id: CONTINUING.id, inputs: { url: 'not a url' }, actor: 'test', trigger: { kind: 'manual' } });
    expect((await w.runs.ended(run.run_id)).status).toBe('completed');
    await w.settled();
    const mine = all().filter((n) => n.run_id === run.run_id);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ severity: 'warning', event_name: 'xyn.step.failed', step_id: 'soft' });
  });

  it("an hxo.alert raises one of its severity; an info alert, xyn.notify.raised and xyn.notify.failed raise none", async () => {
    const bus = w.node.kernel.bus;
    const critical = await bus.publish('hxo.alert', { plan_id: 'plan-a', alert_type: 'plan_crashed', severity: 'critical', message: 'the plan actor kept crashing' });
    const quiet = [
      await bus.publish('hxo.alert', { plan_id: 'plan-a', alert_type: 'storage_available', severity: 'info', message: 'room again' }),
      await bus.publish('xyn.notify.raised', { notification_id: 'x', severity: 'critical', title: 'echo' }),
      await bus.publish('xyn.notify.failed', { error: { code: 'LOOP', message: 'must not notify' } }),
    ];
    await w.settled();
    const bySeq = (seq: number) => all().filter((n) => n.event_seq === seq);
    expect(bySeq(critical.seq)).toHaveLength(1);
    expect(bySeq(critical.seq)[0]).toMatchObject({ severity: 'critical', plan_id: 'plan-a', event_name: 'hxo.alert', summary: 'the plan actor kept crashing' });
    for (const e of quiet) expect(bySeq(e.seq)).toEqual([]);
  });
});

describe('a burst of like failures', () => {
  it('is one notification, counted, with one xyn.notify.raised and one delivery; once acked, the next failure raises a new one', async () => {
    const runs = await Promise.all(Array.from({ length: 12 }, () => failedRun(BURSTING.id)));
    await w.settled();
    const burst = all().filter((n) => n.blueprint_id === BURSTING.id);
    expect(burst).toHaveLength(1);
    const n = burst[0] as NotificationRecord;
    expect(n.count).toBe(runs.length);
    expect(n.last_event_seq).toBeGreaterThan(n.event_seq);
    await waitFor(() => raisedEventsOf(n.notification_id).length === 1, 5_000, 'xyn.notify.raised');
    await waitFor(() => w.notifier.book.get(n.notification_id).webhook?.status === 'delivered', 5_000, 'the delivery');
    expect(received.filter((r) => r.headers['x-xyn-notification-id'] === n.notification_id)).toHaveLength(1);

    await w.clients.operator.notifications.ack(n.notification_id, 'fixed the url');
    await failedRun(BURSTING.id);
    await w.settled();
    const after = all().filter((x) => x.blueprint_id === BURSTING.id);
    expect(after.map((x) => [x.status, x.count])).toEqual([
      ['open', 1],
      ['acked', runs.length],
    ]);
  });
});

describe('acknowledging', () => {
  it('an operator acks (audited, with the note); a viewer gets 403; a second ack 409; an unknown id 404; a malformed one 400', async () => {
    const alert = await w.node.kernel.bus.publish('hxo.alert', { plan_id: 'plan-ack', alert_type: 'shards_failed', severity: 'error', message: '3 shards failed' });
    await w.settled();
    const n = all().find((x) => x.event_seq === alert.seq) as NotificationRecord;

    const refused = await w.clients.viewer.notifications.ack(n.notification_id).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiRefusedError);
    expect(refused).toMatchObject({ status: 403 });
    expect((refused as Error).message).toContain('xyn:notifications:ack');

    const acked = await w.clients.operator.notifications.ack(n.notification_id, 'replayed them');
    expect(acked).toMatchObject({ status: 'acked', acked_by: 'operator-user', ack_note: 'replayed them' });
    expect(acked.acked_at).not.toBeNull();
    expect(await w.clients.viewer.notifications.get(n.notification_id)).toMatchObject({ status: 'acked', acked_by: 'operator-user' });

    const again = await w.clients.admiral.notifications.ack(n.notification_id).catch((e: unknown) => e);
    expect(again).toMatchObject({ status: 409, apiCode: 'conflict' });
    expect((again as Error).message).toMatch(/already acknowledged by operator-user/);

    expect(await w.clients.operator.notifications.ack('0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b').catch((e: unknown) => e)).toMatchObject({ status: 404 });
    const malformed = await fetch(`${w.url}/api/v1/notifications/nope/ack`, { method: 'POST', headers: { authorization: `Bearer ${w.tokens.operator}`, 'content-type': 'application/json' }, body: '{}' });
    expect(malformed.status).toBe(400);
    const unknownField = await fetch(`${w.url}/api/v1/notifications/${n.notification_id}/ack`, { method: 'POST', headers: { authorization: `Bearer ${w.tokens.operator}`, 'content-type': 'application/json' }, body: '{"nope": 1}' });
    expect(unknownField.status).toBe(400);

    const { audit } = w.node.kernel;
    await audit.caughtUp();
    const records = audit.list({ operation: 'notification.ack' }).filter((r) => r.details.notification_id === n.notification_id);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ user: 'operator-user', role: 'operator', details: { note: 'replayed them', event_name: 'hxo.alert' } });
  });
});

describe('lists', () => {
  it('are newest first, filtered by status and severity, and paged with cursors', async () => {
    const bus = w.node.kernel.bus;
    for (const severity of ['warning', 'critical', 'error', 'critical']) await bus.publish('hxo.alert', { plan_id: `plan-list-${severity}-${Math.random()}`, alert_type: 'bad_leaves', severity, message: severity });
    await w.settled();
    const client = w.clients.viewer.notifications;
    const everything = (await client.list({ limit: 500 })).items;
    expect(everything.length).toBeGreaterThanOrEqual(8);
    const ids = everything.map((n) => n.notification_id);
    expect(ids).toEqual([...ids].sort().reverse());

    const paged: string[] = [];
    for (let cursor: string | undefined; ; ) {
      const page = await client.list({ limit: 3, ...(cursor ? { cursor } : {}) });
      paged.push(...page.items.map((n) => n.notification_id));
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    expect(paged).toEqual(ids);

    const critical = (await client.list({ severity: 'critical', limit: 500 })).items;
    expect(critical.length).toBeGreaterThanOrEqual(3);
    expect(critical.every((n) => n.severity === 'critical')).toBe(true);
    expect(critical.map((n) => n.notification_id)).toEqual(everything.filter((n) => n.severity === 'critical').map((n) => n.notification_id));
    const acked = (await client.list({ status: 'acked' })).items;
    expect(acked.length).toBeGreaterThanOrEqual(2);
    expect(acked.every((n) => n.status === 'acked')).toBe(true);
    const openErrors = (await client.list({ status: 'open', severity: 'error', limit: 1 })).items;
    expect(openErrors).toHaveLength(1);
    expect(openErrors[0]).toMatchObject({ status: 'open', severity: 'error' });

    const bad = await fetch(`${w.url}/api/v1/notifications?severity=info`, { headers: { authorization: `Bearer ${w.tokens.viewer}` } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/critical, error, warning/);
    const captain = await fetch(`${w.url}/api/v1/notifications`, { headers: { authorization: `Bearer ${w.tokens.captain}` } });
    expect(captain.status).toBe(200);
  });
});

describe('configuration', () => {
  it('refuses a webhook URL that is not http(s), and a bad attempt count, naming the variable', () => {
    expect(() => loadConfig({ env: { XYN_NOTIFY_WEBHOOK_URL: 'ftp://example.com/hook' } })).toThrow(/XYN_NOTIFY_WEBHOOK_URL: expected an http:\/\/ or https:\/\/ URL/);
    expect(() => loadConfig({ env: { XYN_NOTIFY_WEBHOOK_ATTEMPTS: '0' } })).toThrow(/XYN_NOTIFY_WEBHOOK_ATTEMPTS: must be at least 1/);
    expect(loadConfig({ env: { XYN_NOTIFY_WEBHOOK_URL: 'https://hooks.example.com/T0/B0/x' } }).XYN_NOTIFY_WEBHOOK_URL).toBe('https://hooks.example.com/T0/B0/x');
  });
});
