/**
 * The live stream at /api/v1/stream on the real server, with real WebSocket
 * clients (ws): upgrade auth, subscribe `since` while events are published
 * (every event exactly once, in order), unsubscribing part of a
 * subscription, msgpack frames, audit filtering, bad frames, a client
 * that stops reading: lagged and closed, while another keeps receiving; each
 * event encoded once for 64 subscriptions on two connections; and a live
 * client that stops reading then reads again: what it got and what it was
 * told it skipped add up. (Limits: stream-limits.test.ts; memory under
 * load: stream-memory.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_SLOW_CONSUMER, CLOSE_TOKEN_REVOKED } from '../../src/api/stream.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import { publishAudit } from '../../src/kernel/audit.ts';
import { startApi, type TestApi } from './helpers.ts';
import { bearer, connect } from './stream-client.ts';

let api: TestApi;
let slowServer: ApiServer;
beforeAll(async () => {
  api = await startApi();
  slowServer = await startApiServer({ kernel: api.node.kernel, host: '127.0.0.1', port: 0, streamStallMs: 500 });
});
afterAll(async () => {
  await slowServer?.close();
  await api?.close();
});

async function publish(api: TestApi, name: string, from: number, count: number, pad = 0): Promise<void> {
  const filler = 'x'.repeat(pad);
  for (let start = from; start < from + count; start += 500) {
    const end = Math.min(from + count, start + 500);
    await Promise.all(Array.from({ length: end - start }, (_, k) => api.node.kernel.bus.publish(name, { n: start + k, ...(pad ? { filler } : {}) })));
  }
}

describe('the stream', () => {
  it('needs a token with xyn:events:read on the upgrade (header or ?token=) and a known codec', async () => {
    await expect(connect(api.server.port)).rejects.toMatchObject({ status: 401 });
    await expect(connect(api.server.port, '', bearer('xyn_wrong'))).rejects.toMatchObject({ status: 401 });
    await expect(connect(api.server.port, `?codec=xml&token=${api.tokens.viewer}`)).rejects.toMatchObject({ status: 400 });
    const viaQuery = await connect(api.server.port, `?token=${api.tokens.viewer}`);
    viaQuery.ws.close();
    const viaHeader = await connect(api.server.port, '', bearer(api.tokens.captain));
    viaHeader.ws.close();
  });

  it('a client subscribing `since` while 10,000 events are published gets every event exactly once, in order', async () => {
    await publish(api, 'load.before', 0, 1000);
    const since = api.node.kernel.bus.lastSeq - 600;
    const client = await connect(api.server.port, '', bearer(api.tokens.viewer));
    const publishing = publish(api, 'load.tick', 0, 10_000);
    client.send({ op: 'subscribe', topics: ['load.*'], since });
    await publishing;
    const last = api.node.kernel.bus.lastSeq;
    await client.until(() => (client.events().at(-1)?.seq ?? 0) >= last);
    const events = client.events();
    const expected = api.node.kernel.bus.queryHistory({ topic: 'load.*', since, limit: 100_000 }).map((e) => e.seq);
    expect(events.map((e) => e.seq)).toEqual(expected);
    expect(events.filter((e) => e.event_name === 'load.tick').map((e) => e.data.n)).toEqual([...Array(10_000).keys()]);
    expect(events.filter((e) => e.event_name === 'load.before').length).toBeGreaterThan(0);
    expect(client.frames[0]).toMatchObject({ type: 'subscribed', sub: 1, topics: ['load.*'], since });
    expect(client.frames.some((f) => f.type === 'lagged')).toBe(false);
    client.ws.close();
  });

  it('unsubscribing some topics goes on with the rest with no gap or repeat; msgpack frames carry the same events', async () => {
    const client = await connect(api.server.port, `?codec=msgpack&token=${api.tokens.viewer}`);
    client.send({ op: 'subscribe', topics: ['mix.a', 'mix.b'] });
    await client.until(() => client.frames.length > 0);
    for (let i = 0; i < 200; i++) await api.node.kernel.bus.publish(i % 2 ? 'mix.b' : 'mix.a', { n: i });
    await client.until(() => client.events().length >= 200);
    client.send({ op: 'unsubscribe', topics: ['mix.a'] });
    await client.until(() => client.frames.some((f) => f.type === 'unsubscribed'));
    for (let i = 200; i < 400; i++) await api.node.kernel.bus.publish(i % 2 ? 'mix.b' : 'mix.a', { n: i });
    await client.until(() => (client.events().at(-1)?.data.n as number) >= 399);
    const ns = client.events().map((e) => e.data.n as number);
    expect(ns.slice(0, 200)).toEqual([...Array(200).keys()]);
    expect(ns.slice(200)).toEqual([...Array(100).keys()].map((k) => 201 + 2 * k));
    expect(client.frames.find((f) => f.type === 'unsubscribed')).toEqual({ type: 'unsubscribed', subs: [1] });
    client.ws.close();
  });

  it('shows hxo.audit only with hxo:audit, and answers bad frames with an error frame, staying open', async () => {
    await publishAudit(api.node.kernel.bus, { user: 'tester', role: 'admiral', operation: 'test.op', details: {} });
    const viewer = await connect(api.server.port, '', bearer(api.tokens.viewer));
    const captain = await connect(api.server.port, '', bearer(api.tokens.captain));
    for (const c of [viewer, captain]) c.send({ op: 'subscribe', topics: ['hxo.audit', 'audit.marker'], since: 0 });
    await api.node.kernel.bus.publish('audit.marker', {});
    await captain.until(() => captain.events().some((e) => e.event_name === 'audit.marker'));
    await viewer.until(() => viewer.events().some((e) => e.event_name === 'audit.marker'));
    expect(captain.events().some((e) => e.event_name === 'hxo.audit')).toBe(true);
    expect(viewer.events().some((e) => e.event_name === 'hxo.audit')).toBe(false);

    for (const bad of ['not json', '{"op":"dance"}', '{"op":"subscribe","topics":[]}', '{"op":"subscribe","topics":["a..b"]}', `{"op":"subscribe","topics":["a"],"since":${Number.MAX_SAFE_INTEGER}}`]) {
      const before = viewer.frames.length;
      viewer.ws.send(bad);
      await viewer.until(() => viewer.frames.length > before);
      expect(viewer.frames.at(-1)?.type, bad).toBe('error');
    }
    expect(viewer.closed).toBeUndefined();
    viewer.ws.close();
    captain.ws.close();
  });

  it('a token revoked through the API closes its open streams (4001) and cannot connect again', async () => {
    const made = await api.call('POST', '/api/v1/tokens', { body: { role: 'viewer', principal: 'short-lived' } });
    expect(made.status).toBe(201);
    const token = made.body.token as string;
    const client = await connect(api.server.port, '', bearer(token));
    const other = await connect(api.server.port, '', bearer(api.tokens.viewer));
    client.send({ op: 'subscribe', topics: ['revoke.*'] });
    await client.until(() => client.frames.length > 0);
    expect((await api.call('POST', `/api/v1/tokens/${made.body.token_id as string}/revoke`, { body: {} })).status).toBe(200);
    await client.until(() => client.closed !== undefined);
    expect(client.closed?.code).toBe(CLOSE_TOKEN_REVOKED);
    expect(client.frames.at(-1)).toMatchObject({ type: 'error', error: { code: 'token_revoked' } });
    expect(other.closed).toBeUndefined();
    await expect(connect(api.server.port, '', bearer(token))).rejects.toMatchObject({ status: 401 });
    other.ws.close();
  });

  it('a client that stops reading is lagged and closed with 4008 while another keeps receiving everything', async () => {
    const slow = await connect(slowServer.port, '', bearer(api.tokens.viewer));
    const fast = await connect(slowServer.port, '', bearer(api.tokens.viewer));
    for (const c of [slow, fast]) c.send({ op: 'subscribe', topics: ['flood.*'] });
    await slow.until(() => slow.frames.length > 0);
    await fast.until(() => fast.frames.length > 0);
    // Stop reading: the server's socket for it fills up.
    slow.pause();
    const clientsBefore = slowServer.streamClients();
    await publish(api, 'flood.x', 0, 20_000, 1024);
    await fast.until(() => fast.events().length >= 20_000);
    expect(fast.events().map((e) => e.data.n)).toEqual([...Array(20_000).keys()]);
    expect(fast.frames.some((f) => f.type === 'lagged')).toBe(false);
    // The server closed the slow one (its subscription ended; the publisher never waited).
    const deadline = Date.now() + 10_000;
    while (slowServer.streamClients() >= clientsBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(slowServer.streamClients()).toBe(clientsBefore - 1);
    slow.resume();
    await slow.until(() => slow.closed !== undefined);
    expect(slow.closed?.code).toBe(CLOSE_SLOW_CONSUMER);
    const notice = slow.frames.find((f) => f.type === 'lagged');
    expect(notice).toMatchObject({ closing: true });
    expect(slow.events().length).toBeLessThan(20_000);
    fast.ws.close();
  });
});

describe('the stream under load', () => {
  it('encodes each event once, however many connections and subscriptions send it', async () => {
    const { bus } = api.node.kernel;
    const since = bus.lastSeq;
    await publish(api, 'share.x', 0, 2000, 100);
    const encoded = api.server.streamStats().frames.encoded;
    const clients = [await connect(api.server.port, '', bearer(api.tokens.viewer), { count: true }), await connect(api.server.port, '', bearer(api.tokens.viewer), { count: true })];
    for (const c of clients) for (let i = 0; i < 32; i++) c.send({ op: 'subscribe', topics: ['share.*'], since });
    for (const c of clients) await c.until(() => c.eventFrames === 32 * 2000);
    expect(api.server.streamStats().frames.encoded - encoded).toBe(2000);
    for (const c of clients) c.ws.close();
  });

  it('a live client that stops reading is told `lagged` when it reads again: what it got and what it was told it skipped add up, in order', async () => {
    const c = await connect(api.server.port, '', bearer(api.tokens.viewer));
    c.send({ op: 'subscribe', topics: ['burst.*'] });
    await c.until(() => c.frames.length > 0);
    c.pause();
    let n = 0;
    while (api.server.streamStats().stalled === 0) {
      await publish(api, 'burst.x', n, 500, 1024);
      n += 500;
    }
    // Far more than the socket's buffers hold, while the node knows it does not read.
    await publish(api, 'burst.x', n, 20_000, 1024);
    n += 20_000;
    c.resume();
    await c.until(() => c.events().at(-1)?.data.n === n - 1);
    const got = c.events().map((e) => e.data.n as number);
    const lagged = c.frames.filter((f) => f.type === 'lagged') as unknown as { skipped: number; from_seq: number; to_seq: number }[];
    expect(lagged.length).toBeGreaterThan(0);
    expect(got.every((v, i) => i === 0 || v > (got[i - 1] as number))).toBe(true);
    expect(got.length + lagged.reduce((sum, l) => sum + l.skipped, 0)).toBe(n);
    // Each notice comes right where its events are missing.
    for (const l of lagged) {
      const at = c.frames.indexOf(l as unknown as (typeof c.frames)[number]);
      const before = c.frames.slice(0, at).filter((f) => f.type === 'event').at(-1)?.event as { seq: number } | undefined;
      const after = c.frames.slice(at).find((f) => f.type === 'event')?.event as { seq: number };
      expect(before === undefined || before.seq < l.from_seq).toBe(true);
      expect(after.seq).toBeGreaterThan(l.to_seq);
    }
    expect(c.closed).toBeUndefined();
    c.ws.close();
  });
});

describe('the stream after retention trimmed the log', () => {
  it('a `since` below the oldest kept seq gets truncated, then every kept event from the oldest on, then live ones, with no gap', async () => {
    const { bus, events } = api.node.kernel;
    await publish(api, 'trim.tick', 0, 60);
    const cut = bus.lastSeq - 20;
    await events.trimThrough(cut); // what retention does, by age or size
    const since = cut - 40;
    const client = await connect(api.server.port, '', bearer(api.tokens.viewer));
    client.send({ op: 'subscribe', topics: ['trim.>'], since });
    await client.until(() => (client.events().at(-1)?.seq ?? 0) >= bus.lastSeq);
    await publish(api, 'trim.live', 0, 5);
    await client.until(() => client.events().filter((e) => e.event_name === 'trim.live').length === 5);

    expect(client.frames[0]).toMatchObject({ type: 'subscribed', sub: 1, since, oldest_seq: cut + 1 });
    expect(client.frames[1]).toEqual({ type: 'truncated', sub: 1, oldest_seq: cut + 1, from_seq: since + 1, to_seq: cut });
    expect(client.frames.slice(2).every((f) => f.type === 'event')).toBe(true);
    const kept = bus.queryHistory({ topic: 'trim.>', since: cut, limit: 1000 }).map((e) => e.seq);
    expect(kept[0]).toBeGreaterThan(cut);
    expect(client.events().map((e) => e.seq)).toEqual(kept);
    expect(client.events().filter((e) => e.event_name === 'trim.tick').map((e) => e.data.n)).toEqual([...Array(20).keys()].map((k) => 40 + k));
    client.ws.close();
  });
});
