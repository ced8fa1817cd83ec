/**
 * The stream's limits on a real server, with raw WebSocket clients (ws): a
 * client over one gets an error frame naming the limit and what to do, then
 * the close code that says the same (1009 too big, 1007 not UTF-8, 1008
 * policy, 1013 try again later). The node here serves at most 3 stream
 * connections (XYN_STREAM_MAX_CLIENTS) and 4 subscriptions per connection
 * (XYN_STREAM_MAX_SUBSCRIPTIONS).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_INVALID_DATA, CLOSE_POLICY, CLOSE_TOO_BIG, CLOSE_TRY_AGAIN_LATER, MAX_FRAME_BYTES, READ_LIMIT_BYTES } from '../../src/api/stream-limits.ts';
import { waitFor } from '../kernel/helpers.ts';
import { startApi, type TestApi } from './helpers.ts';
import { bearer, connect, type Client } from './stream-client.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startApi({ XYN_STREAM_MAX_CLIENTS: '3', XYN_STREAM_MAX_SUBSCRIPTIONS: '4' });
});
afterAll(async () => {
  await api?.close();
});

const open = () => connect(api.server.port, '', bearer(api.tokens.viewer));

/** The error frame the client got last, and how it was closed. */
async function refusal(c: Client): Promise<{ error: Record<string, unknown>; code: number }> {
  await c.until(() => c.closed !== undefined);
  const last = c.frames.at(-1);
  expect(last?.type).toBe('error');
  return { error: last?.error as Record<string, unknown>, code: c.closed?.code as number };
}

describe('a stream client over a limit', () => {
  it(`a frame over ${MAX_FRAME_BYTES} bytes: frame_too_large, 1009`, async () => {
    const c = await open();
    const frame = `{"op":"subscribe","topics":["a"],"pad":"${'x'.repeat(MAX_FRAME_BYTES)}"}`;
    c.ws.send(frame);
    const { error, code } = await refusal(c);
    expect(code).toBe(CLOSE_TOO_BIG);
    expect(error).toMatchObject({ code: 'frame_too_large', details: { max: MAX_FRAME_BYTES, got: frame.length } });
    expect(error.message).toMatch(new RegExp(`at most 262144 bytes, got ${frame.length}; send smaller frames`));
  });

  it('a JSON frame that is not UTF-8 (sent as a binary frame): invalid_utf8, 1007', async () => {
    const c = await open();
    c.ws.send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: true });
    const { error, code } = await refusal(c);
    expect(code).toBe(CLOSE_INVALID_DATA);
    expect(error).toMatchObject({ code: 'invalid_utf8' });
  });

  it('a subscribe of 10,000 patterns: too_many_patterns, 1008', async () => {
    const c = await open();
    c.send({ op: 'subscribe', topics: Array.from({ length: 10_000 }, (_, i) => `plan.${i}.>`), since: 0 });
    const { error, code } = await refusal(c);
    expect(code).toBe(CLOSE_POLICY);
    expect(error).toMatchObject({ code: 'too_many_patterns', details: { max: 32, got: 10_000 } });
    expect(error.message).toMatch(/at most 32 topic patterns, got 10000; use wider patterns/);
  });

  it('one subscription more than XYN_STREAM_MAX_SUBSCRIPTIONS: too_many_subscriptions, 1008', async () => {
    const c = await open();
    for (let i = 0; i < 5; i++) c.send({ op: 'subscribe', topics: [`s.${i}`] });
    const { error, code } = await refusal(c);
    expect(code).toBe(CLOSE_POLICY);
    expect(c.frames.filter((f) => f.type === 'subscribed')).toHaveLength(4);
    expect(error).toMatchObject({ code: 'too_many_subscriptions', details: { limit: 'XYN_STREAM_MAX_SUBSCRIPTIONS', max: 4 } });
  });

  it('one connection more than XYN_STREAM_MAX_CLIENTS: too_many_clients, 1013; a place freed is taken again', async () => {
    await waitFor(() => api.server.streamClients() === 0, 5_000, 'the earlier clients to be gone');
    const held = [await open(), await open(), await open()];
    const extra = await open();
    const { error, code } = await refusal(extra);
    expect(code).toBe(CLOSE_TRY_AGAIN_LATER);
    expect(error).toMatchObject({ code: 'too_many_clients', details: { limit: 'XYN_STREAM_MAX_CLIENTS', max: 3 } });
    expect(error.message).toMatch(/raise XYN_STREAM_MAX_CLIENTS/);
    for (const c of held) expect(c.closed).toBeUndefined();
    held[0]?.ws.close();
    await waitFor(() => api.server.streamClients() === 2, 5_000, 'a client to leave');
    const again = await open();
    again.send({ op: 'subscribe', topics: ['x'] });
    await again.until(() => again.frames.length > 0);
    expect(again.frames[0]).toMatchObject({ type: 'subscribed' });
    for (const c of [...held, again]) c.ws.close();
    expect(api.server.streamStats().refused).toBe(5);
  });

  it('a client that keeps asking without reading the answers: not_reading, 1008', async () => {
    await waitFor(() => api.server.streamClients() === 0, 5_000, 'the earlier clients to be gone');
    // A log far bigger than the socket's buffers (the kernel's, then uWS's), for a client that does not read.
    const { bus } = api.node.kernel;
    const filler = 'x'.repeat(1024);
    for (let i = 0; i < 40_000; i += 500) await Promise.all(Array.from({ length: 500 }, (_, k) => bus.publish('fill.x', { n: i + k, filler })));
    const c = await open();
    c.pause();
    c.send({ op: 'subscribe', topics: ['fill.*'], since: 0 });
    await waitFor(() => api.server.streamStats().stalled === 1, 10_000, 'its socket to fill');
    const refused = api.server.streamStats().refused;
    // It keeps asking: round after round until the node closes it (the gate's and the kernel's
    // buffers take a few rounds' answers first, and each drain they make starts the count again).
    const closed = () => api.server.streamStats().refused === refused + 1;
    let sent = 0;
    for (let round = 0; round < 50 && !closed(); round++, sent += 1000) {
      const asked = api.server.streamStats().requests + 1000;
      for (let i = 0; i < 1000; i++) c.send({ op: 'dance' });
      await waitFor(() => closed() || api.server.streamStats().requests >= asked, 10_000, 'the node to read the round');
    }
    expect(closed()).toBe(true);
    c.resume();
    const { error, code } = await refusal(c);
    expect(code).toBe(CLOSE_POLICY);
    expect(error).toMatchObject({ code: 'not_reading', details: { max: 64 * 1024 } });
    // Not every request was answered: the node stopped answering a client that does not read.
    expect(c.frames.filter((f) => f.type === 'error').length).toBeLessThan(sent);
    // 40 MB of events to write first: the default timeout is too short for that on a busy machine.
  }, 60_000);
});

describe('what uWS cuts before the stream sees it (no close frame: 1006)', () => {
  it(`a frame over ${READ_LIMIT_BYTES} bytes, and a text frame that is not UTF-8`, async () => {
    const big = await open();
    big.ws.send('x'.repeat(READ_LIMIT_BYTES + 1));
    await big.until(() => big.closed !== undefined);
    expect(big.closed?.code).toBe(1006);
    const text = await open();
    text.ws.send(Buffer.from([0x7b, 0xff, 0x7d]), { binary: false });
    await text.until(() => text.closed !== undefined);
    expect(text.closed?.code).toBe(1006);
  });
});
