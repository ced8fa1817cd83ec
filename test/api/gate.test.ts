/**
 * The protocol's odd corners (issue 12), over raw sockets to a real node on
 * loopback: what uWS alone left unanswered for 10 s or closed on without a
 * word, and what it took that it should not have. Every request here gets
 * an answer — served, or refused with the status and a message that says
 * why — in the standard error shape, in order on its connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeHashPlan } from '../hxo/helpers.ts';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { exchange, readAnswers, type RawAnswer } from '../helpers/raw-http.ts';
import { startApiServer } from '../../src/api/server.ts';
import { startApi, type TestApi } from './helpers.ts';

let api: TestApi;
let port: number;
beforeAll(async () => {
  api = await startApi({}, { maxBodyBytes: 64 * 1024 });
  port = api.server.port;
});
afterAll(async () => {
  await api?.close();
});

const HEALTH = 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\n';
const auth = () => `Authorization: Bearer ${api.tokens.admiral}\r\n`;

function errorOf(answer: RawAnswer | undefined): { code: string; message: string } {
  expect(answer, 'an answer').toBeDefined();
  const parsed = JSON.parse((answer as RawAnswer).body.toString()) as { error: { code: string; message: string }; correlation_id: string };
  expect(parsed.correlation_id).toBe((answer as RawAnswer).headers['x-correlation-id']);
  return parsed.error;
}

async function refusal(request: string, status: number, message: RegExp): Promise<void> {
  const { answers, closed } = await exchange(port, request);
  expect(answers.map((a) => a.status), request.slice(0, 80)).toEqual([status]);
  expect(errorOf(answers[0]).message).toMatch(message);
  // Refused framing is not read on: the node closes the connection after its answer.
  expect(closed).toBe(true);
}

describe('HTTP/1.0', () => {
  it('is served (without a Host too), and the connection ends after the answer', async () => {
    for (const request of ['GET /api/v1/health HTTP/1.0\r\n\r\n', 'GET /api/v1/health HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n']) {
      const { answers, closed } = await exchange(port, request);
      expect(answers.map((a) => a.status)).toEqual([200]);
      expect(JSON.parse((answers[0] as RawAnswer).body.toString())).toMatchObject({ status: 'ok' });
      expect(closed).toBe(true);
    }
  });

  it('gets a streamed (NDJSON) answer without chunked framing, ended by the connection', async () => {
    const { planId, finished } = await api.node.engine.submit(computeHashPlan('gate-http10', 50), { baseDir: process.cwd() });
    await finished;
    const { answers, closed } = await exchange(port, `GET /api/hxo/outputs/${planId} HTTP/1.0\r\n${auth()}Accept: application/x-ndjson\r\n\r\n`);
    expect(closed).toBe(true);
    const answer = answers[0] as RawAnswer;
    expect(answer.status).toBe(200);
    expect(answer.headers['transfer-encoding']).toBeUndefined();
    const lines = answer.body.toString().trimEnd().split('\n').map((l) => JSON.parse(l) as { leaf_index: number });
    expect(lines.map((l) => l.leaf_index)).toEqual([...Array(50).keys()]);
  });
});

describe('header fields', () => {
  const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-Field-${i}: v\r\n`).join('');
  it('48 are read; more are 431 naming the limit', async () => {
    expect((await exchange(port, `${HEALTH}${fields(47)}\r\n`, { answers: 1 })).answers[0]?.status).toBe(200);
    await refusal(`${HEALTH}${fields(48)}\r\n`, 431, /the request has 49 header fields; at most 48 are read/);
    await refusal(`${HEALTH}${fields(200)}\r\n`, 431, /at most 48/);
    await refusal(`${HEALTH}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, /the request head is over 16384 bytes/);
  });

  it('fields named with characters uWS does not read (valid in HTTP) are dropped, and the request served', async () => {
    for (const name of ['X_Under', 'X.Dot', 'A!', 'Odd~Name|']) {
      const { answers } = await exchange(port, `${HEALTH}${name}: v\r\n\r\n`, { answers: 1 });
      expect(answers[0]?.status, name).toBe(200);
    }
  });

  it('an HTTP/1.1 request needs one Host: none or two is 400', async () => {
    await refusal('GET /api/v1/health HTTP/1.1\r\n\r\n', 400, /must have a Host header/);
    await refusal(`${HEALTH}Host: y\r\n\r\n`, 400, /2 Host headers/);
  });

  it('malformed lines are 400 naming the rule: bare LF, obs-fold, a space before the colon, a control character, the reserved header', async () => {
    await refusal('GET /api/v1/health HTTP/1.1\nHost: x\n\n', 400, /bare LF/);
    await refusal(`${HEALTH}X-A: a\r\n b\r\n\r\n`, 400, /obs-fold/);
    await refusal(`${HEALTH}X-A : a\r\n\r\n`, 400, /NAME: VALUE/);
    await refusal(`${HEALTH}X-A: a\x01b\r\n\r\n`, 400, /control character/);
    await refusal(`${HEALTH}X-Xyn-Gate-Refusal: x.e30\r\n\r\n`, 400, /reserved for the node itself/);
  });
});

describe('request lines', () => {
  it('versions other than HTTP/1.x and targets that are not paths are 400; the absolute form is served', async () => {
    await refusal('GET /api/v1/health HTTP/2.0\r\nHost: x\r\n\r\n', 400, /HTTP\/2\.0 is not spoken here/);
    await refusal('GET /api/v1/health\r\n\r\n', 400, /METHOD SP TARGET SP HTTP-VERSION/);
    await refusal('GET  /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n', 400, /METHOD SP TARGET/);
    await refusal('OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', 400, /must be a path/);
    const absolute = await exchange(port, 'GET http://x/api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(absolute.answers.map((a) => a.status)).toEqual([200]);
    // HTTP/1.2 is read as 1.1 (RFC 9110 §6.2).
    expect((await exchange(port, 'GET /api/v1/health HTTP/1.2\r\nHost: x\r\n\r\n', { answers: 1 })).answers[0]?.status).toBe(200);
  });

  it('methods uWS does not route are answered as the router would: 405 with Allow on a known path, else 404', async () => {
    for (const method of ['BREW', 'get', 'PROPFIND']) {
      const { answers } = await exchange(port, `${method} /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n`, { answers: 1 });
      expect(answers[0]?.status, method).toBe(405);
      expect(answers[0]?.headers.allow).toBe('GET, HEAD');
    }
    const { answers } = await exchange(port, 'BREW /coffee HTTP/1.1\r\nHost: x\r\n\r\n', { answers: 1 });
    expect(answers[0]?.status).toBe(404);
    expect(errorOf(answers[0]).message).toBe('no route BREW /coffee');
  });
});

describe('bodies and framing', () => {
  const emit = (headers: string, body: string) => `POST /api/v1/events HTTP/1.1\r\nHost: x\r\n${auth()}Content-Type: application/json\r\n${headers}\r\n${body}`;
  const event = '{"event_name":"gate.test","data":{"n":1}}';

  it('two differing Content-Lengths are 400 and nothing after them is read (no smuggled request runs)', async () => {
    const smuggled = `GET /api/v1/tokens HTTP/1.1\r\nHost: x\r\n${auth()}\r\n`;
    const { answers, closed } = await exchange(port, emit(`Content-Length: ${event.length}\r\nContent-Length: ${event.length + smuggled.length}\r\n`, event + smuggled));
    expect(answers.map((a) => a.status)).toEqual([400]);
    expect(errorOf(answers[0]).message).toMatch(/differing Content-Lengths/);
    expect(closed).toBe(true);
    await refusal(emit('Content-Length: 5, 6\r\n', event), 400, /differing Content-Lengths \(5, 6\)/);
    await refusal(emit('Content-Length: -1\r\n', event), 400, /Content-Length must be a number of bytes/);
    await refusal(emit(`Content-Length: ${event.length}\r\nTransfer-Encoding: chunked\r\n`, event), 400, /both Content-Length and Transfer-Encoding/);
    await refusal(emit('Transfer-Encoding: gzip, chunked\r\n', event), 400, /Transfer-Encoding "gzip, chunked" is not read here/);
  });

  it('equal repeated lengths and chunked bodies are served; a bad chunk is 400, one past the limit 413', async () => {
    const twice = await exchange(port, emit(`Content-Length: ${event.length}\r\nContent-Length: ${event.length}\r\n`, event), { answers: 1 });
    expect(twice.answers[0]?.status).toBe(201);
    const chunks = `5\r\n${event.slice(0, 5)}\r\n${(event.length - 5).toString(16)};ext=1\r\n${event.slice(5)}\r\n0\r\nX-Trailer: t\r\n\r\n`;
    const chunked = await exchange(port, emit('Transfer-Encoding: chunked\r\n', chunks), { answers: 1 });
    expect(chunked.answers[0]?.status).toBe(201);
    expect(JSON.parse((chunked.answers[0] as RawAnswer).body.toString())).toMatchObject({ event_name: 'gate.test', data: { n: 1 } });
    await refusal(emit('Transfer-Encoding: chunked\r\n', 'zz\r\nabc\r\n0\r\n\r\n'), 400, /malformed: "zz" is not a chunk size/);
    await refusal(emit('Transfer-Encoding: chunked\r\n', '3\r\nabcdef\r\n0\r\n\r\n'), 400, /more data than its size says/);
    await refusal(emit('Transfer-Encoding: chunked\r\n', `${(70 * 1024).toString(16)}\r\n`), 413, /over the limit of 65536 bytes/);
    await refusal(emit('Content-Length: 70000\r\n', '{'), 413, /the body is 70000 bytes; the limit is 65536/);
  });

  it('a request cut short by the client ending its side is 400 saying what is missing', async () => {
    const head = await exchange(port, 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\n', { end: true });
    expect(head.answers.map((a) => a.status)).toEqual([400]);
    expect(errorOf(head.answers[0]).message).toMatch(/its head ended before the blank line/);
    const body = await exchange(port, emit('Content-Length: 100\r\n', event), { end: true });
    expect(body.answers.map((a) => a.status)).toEqual([400]);
    expect(errorOf(body.answers[0]).message).toMatch(new RegExp(`its body ended early \\(${event.length} of 100 bytes\\)`));
  });

  it('a request that stops arriving midway is 408 once the request timeout passes', async () => {
    const slow = await startApiServer({ kernel: api.node.kernel, engine: api.node.engine, host: '127.0.0.1', port: 0, requestTimeoutMs: 300 });
    try {
      // The exchange ends when the node answers and closes; its own bound is far above the node's timeout.
      const head = await exchange(slow.port, 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Half: ', { timeoutMs: 5_000 });
      expect(head.answers.map((a) => a.status)).toEqual([408]);
      expect(errorOf(head.answers[0]).message).toMatch(/did not arrive within 0.3 s/);
      const body = await exchange(slow.port, emit('Content-Length: 100\r\n', event), { timeoutMs: 5_000 });
      expect(body.answers.map((a) => a.status)).toEqual([408]);
      expect(head.closed && body.closed).toBe(true);
    } finally {
      await slow.close();
    }
  });

  it('Expect: 100-continue gets 100 Continue, then the answer once the body came', async () => {
    // As a client does: the head, then the body only once told to continue.
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    const next = () => new Promise<void>((resolve) => socket.once('data', (b: Buffer) => ((received = Buffer.concat([received, b])), resolve())));
    socket.write(emit(`Content-Length: ${event.length}\r\nExpect: 100-continue\r\n`, ''));
    await next();
    expect(received.toString()).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    socket.write(event);
    while (readAnswers(received, [], false).answers.length === 0) await next();
    socket.destroy();
    const answer = readAnswers(received, [], false).answers[0] as RawAnswer;
    expect(answer.interim).toEqual([100]);
    expect(answer.status).toBe(201);
  });
});

describe('connections', () => {
  it('HEAD is answered with a head only, and the connection goes on to the next request', async () => {
    const { answers } = await exchange(port, `HEAD /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n${HEALTH}\r\n`, { answers: 2, head: [true, false] });
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(Number(answers[0]?.headers['content-length'])).toBeGreaterThan(0);
    expect(answers[0]?.body.length).toBe(0);
    expect(JSON.parse((answers[1] as RawAnswer).body.toString())).toMatchObject({ status: 'ok' });
  });

  it('pipelined requests are answered in order, a refusal behind the answers before it', async () => {
    const slow = `GET /api/hxo/plans HTTP/1.1\r\nHost: x\r\n${auth()}\r\n`;
    const { answers, closed } = await exchange(port, `${slow}${HEALTH}\r\nGET /api/v1/health HTTP/1.1\r\n\r\n${HEALTH}\r\n`);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 400]);
    expect(JSON.parse((answers[0] as RawAnswer).body.toString())).toHaveProperty('items');
    expect(closed).toBe(true);
  });

  it('a client that ends its side after asking gets every answer, then the connection closes (not at the 10 s idle timeout)', async () => {
    const event = '{"event_name":"gate.half","data":{}}';
    const post = `POST /api/v1/events HTTP/1.1\r\nHost: x\r\n${auth()}Content-Type: application/json\r\nContent-Length: ${event.length}\r\n\r\n${event}`;
    // No answer count: the exchange ends when the node closes, within a bound well under uWS's idle timeout.
    const { answers, closed } = await exchange(port, `${HEALTH}\r\n${post}`, { end: true, timeoutMs: 4_000 });
    expect(closed).toBe(true);
    expect(answers.map((a) => a.status)).toEqual([200, 201]);
  });

  it('a stopping node ends its streams with 1001 through the gate, and its keep-alive connections', async () => {
    const other = await startApi();
    const ws = new WebSocket(`ws://127.0.0.1:${other.server.port}/api/v1/stream?token=${other.tokens.viewer}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const kept = connect(other.server.port, '127.0.0.1');
    kept.write(`${HEALTH}\r\n`);
    await new Promise((resolve) => kept.once('data', resolve));
    const keptClosed = new Promise((resolve) => kept.once('close', resolve));
    const code = new Promise<number>((resolve) => ws.once('close', resolve));
    await other.close();
    expect(await code).toBe(1001);
    await keptClosed;
  });

  it('XYN_API_GATE=off: uWS holds the port itself, and leaves what the gate would answer unanswered', async () => {
    const bare = await startApi({ XYN_API_GATE: 'off' });
    try {
      expect((await exchange(bare.server.port, `${HEALTH}\r\n`, { answers: 1 })).answers[0]?.status).toBe(200);
      // No answer at all (uWS closes, or waits out its idle timeout): given a second, well past any answer.
      const noHost = await exchange(bare.server.port, 'GET /api/v1/health HTTP/1.1\r\n\r\n', { timeoutMs: 1_000 });
      expect(noHost.answers).toEqual([]);
      expect(bare.server.gate).toMatchObject({ forwarded: 0, refused: 0 });
    } finally {
      await bare.close();
    }
  });

  it('counts what it passed on and what it refused', () => {
    expect(api.server.gate.forwarded).toBeGreaterThan(0);
    expect(api.server.gate.refused).toBeGreaterThan(20);
  });
});
