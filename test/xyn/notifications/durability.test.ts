/**
 * What survives a stop: a node started again on the same data dir raises no
 * notification twice (nor publishes its `xyn.notify.raised` twice), and
 * raises one for an event the notifier had not read when it stopped; a
 * webhook target that is down gets the notification once it is up — by the
 * same node, or by the node started again — the attempts in between recorded
 * on it (waiting on those records, not on time).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { serve } from '../../helpers/test-server.ts';
import { tempDir, waitFor } from '../../kernel/helpers.ts';
import { notifyingNodes } from './helpers.ts';

const start = notifyingNodes();

describe('a node stopped and started again', () => {
  it('notifies nothing twice, and misses nothing published while its notifier was stopped', async () => {
    const dir = tempDir();
    try {
      const first = await start({}, dir.path);
      const bus = first.node.kernel.bus;
      const a = await bus.publish('hxo.alert', { plan_id: 'plan-r1', alert_type: 'plan_crashed', severity: 'critical', message: 'crashed' });
      const b = await bus.publish('xyn.backup.failed', { error: { code: 'DISK', message: 'no room for the backup' } });
      await first.settled();
      const before = first.notifier.book.list({ limit: 500 }).items;
      expect(before.map((n) => n.event_seq).sort()).toEqual([a.seq, b.seq]);
      await waitFor(() => first.notifier.book.unpublished().length === 0, 5_000, 'xyn.notify.raised published');
      // The notifier stops before the rest of the node: what is published now is in the log, unread by it.
      await first.notifier.halt();
      const missed = await bus.publish('hxo.alert', { plan_id: 'plan-r2', alert_type: 'shards_failed', severity: 'error', message: 'published while the notifier was stopped' });
      await first.stop();

      const second = await start({}, dir.path);
      await second.settled();
      const after = second.notifier.book.list({ limit: 500 }).items;
      expect(after.map((n) => n.event_seq).sort()).toEqual([a.seq, b.seq, missed.seq]);
      expect(after.find((n) => n.event_seq === missed.seq)).toMatchObject({ severity: 'error', plan_id: 'plan-r2', count: 1 });
      expect(after.filter((n) => n.event_seq !== missed.seq)).toEqual(before);
      await waitFor(() => second.notifier.book.unpublished().length === 0, 5_000, 'xyn.notify.raised published');
      const raised = second.node.kernel.bus.queryHistory({ topic: 'xyn.notify.raised' }).map((e) => e.data.notification_id);
      expect(raised.sort()).toEqual(after.map((n) => n.notification_id).sort());
      await second.stop();
    } finally {
      dir.cleanup();
    }
  });
});

/** A free loopback port, closed again: nothing listens there until a target starts on it. */
async function freePort(): Promise<number> {
  const probe = await serve(() => undefined);
  const port = Number(new URL(probe.url).port);
  await probe.close();
  return port;
}

/** A webhook target on `port` keeping the bodies it receives. */
async function targetOn(port: number): Promise<{ bodies: string[]; close(): Promise<void> }> {
  const bodies: string[] = [];
  const target: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(body);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => target.listen(port, '127.0.0.1', resolve));
  expect((target.address() as AddressInfo).port).toBe(port);
  return {
    bodies,
    close: () => {
      target.closeAllConnections();
      return new Promise<void>((resolve) => target.close(() => resolve()));
    },
  };
}

const idsIn = (bodies: string[]) => bodies.map((b) => (JSON.parse(b) as { notification_id: string }).notification_id);

describe('a webhook target that is down', () => {
  it('gets the notification once it is up; the failed attempts are recorded on it, and never name the URL', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/hook/s3cr3t-path`;
    const w = await start({ XYN_NOTIFY_WEBHOOK_URL: url, XYN_NOTIFY_WEBHOOK_BACKOFF_MS: '5', XYN_NOTIFY_WEBHOOK_ATTEMPTS: '1000' });
    const alert = await w.node.kernel.bus.publish('hxo.alert', { plan_id: 'plan-w', alert_type: 'plan_crashed', severity: 'critical', message: 'crashed' });
    await w.settled();
    const id = (w.notifier.book.list({}).items.find((n) => n.event_seq === alert.seq) as { notification_id: string }).notification_id;
    await waitFor(() => (w.notifier.book.get(id).webhook?.attempts ?? 0) >= 2, 10_000, 'two failed attempts');
    const pending = w.notifier.book.get(id).webhook;
    expect(pending).toMatchObject({ status: 'pending', delivered_at: null });
    expect(pending?.last_error).toMatch(/ECONNREFUSED|fetch failed/);
    expect(pending?.last_error).not.toContain('s3cr3t');

    const target = await targetOn(port);
    try {
      await waitFor(() => w.notifier.book.get(id).webhook?.status === 'delivered', 10_000, 'the delivery once the target is up');
      expect(idsIn(target.bodies)).toEqual([id]);
      expect(w.notifier.book.get(id).webhook).toMatchObject({ status: 'delivered', last_error: null });
      expect(w.notifier.webhook?.stats().owed).toBe(0);
    } finally {
      await target.close();
    }
  });

  it('a delivery owed when the node stops is made by the node started again', async () => {
    const dir = tempDir();
    try {
      const port = await freePort();
      const env = { XYN_NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`, XYN_NOTIFY_WEBHOOK_BACKOFF_MS: '5', XYN_NOTIFY_WEBHOOK_ATTEMPTS: '1000' };
      const first = await start(env, dir.path);
      const alert = await first.node.kernel.bus.publish('hxo.alert', { plan_id: 'plan-o', alert_type: 'plan_crashed', severity: 'critical', message: 'crashed' });
      await first.settled();
      const id = (first.notifier.book.list({}).items.find((n) => n.event_seq === alert.seq) as { notification_id: string }).notification_id;
      await waitFor(() => (first.notifier.book.get(id).webhook?.attempts ?? 0) >= 1, 10_000, 'a failed attempt');
      await first.stop();

      const target = await targetOn(port);
      try {
        const second = await start(env, dir.path);
        await waitFor(() => second.notifier.book.get(id).webhook?.status === 'delivered', 10_000, 'the delivery after the restart');
        expect(idsIn(target.bodies)).toEqual([id]);
        await second.stop();
      } finally {
        await target.close();
      }
    } finally {
      dir.cleanup();
    }
  });

  it('gives up after XYN_NOTIFY_WEBHOOK_ATTEMPTS, the notification kept with its delivery failed', async () => {
    const refusing = await serve((_req, res) => res.writeHead(503).end('down for maintenance'));
    try {
      const w = await start({ XYN_NOTIFY_WEBHOOK_URL: refusing.url, XYN_NOTIFY_WEBHOOK_BACKOFF_MS: '1', XYN_NOTIFY_WEBHOOK_ATTEMPTS: '3' });
      const alert = await w.node.kernel.bus.publish('hxo.alert', { plan_id: 'plan-f', alert_type: 'plan_crashed', severity: 'critical', message: 'crashed' });
      await w.settled();
      const id = (w.notifier.book.list({}).items.find((n) => n.event_seq === alert.seq) as { notification_id: string }).notification_id;
      await waitFor(() => w.notifier.book.get(id).webhook?.status === 'failed', 10_000, 'the delivery given up');
      expect(w.notifier.book.get(id)).toMatchObject({ status: 'open', webhook: { status: 'failed', attempts: 3, last_error: 'the target answered 503' } });
      expect(w.notifier.webhook?.stats()).toMatchObject({ failed: 1, owed: 0 });
    } finally {
      await refusing.close();
    }
  });
});
