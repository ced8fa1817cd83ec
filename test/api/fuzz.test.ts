/**
 * Fuzzing the HTTP API (fast-check): thousands of requests with malformed
 * bodies, headers, methods and paths, sent over raw TCP so nothing is
 * cleaned up on the way. Every one gets an answer below 500 in the standard
 * error shape (or a success for the few that happen to be valid), the server
 * stays up, and its memory does not grow with the number of requests.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './helpers.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startApi({}, { maxBodyBytes: 16 * 1024 });
});
afterAll(async () => {
  await api?.close();
});

/** Sends raw bytes as one request on a fresh connection; the status of the answer, and its body. */
function raw(request: string | Buffer, port: number, headOnly = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${String(request).slice(0, 120)}`));
    }, 3_000);
    socket.on('data', (b) => {
      chunks.push(b);
      const text = Buffer.concat(chunks).toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      if (head < 0) return;
      const length = /content-length: (\d+)/i.exec(text.slice(0, head));
      if (!headOnly && length && text.length - head - 4 < Number(length[1])) return;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(text.slice(9, 12)), body: text.slice(head + 4) });
    });
    // A connection closed before an answer: status 0, which checkAnswer refuses.
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ status: 0, body: '' });
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.write(request);
  });
}

const ROUTE_PATHS = ['/api/hxo/create-and-submit', '/api/hxo/status/x', '/api/hxo/replay/x', '/api/hxo/plans/x/shards', '/api/hxo/proof/x/y', '/api/v1/events', '/api/v1/events/x', '/api/genesis/events', '/api/v1/health', '/'];
const printable = fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.~!$&\'()*+,;=:@%/?#[]{}"<>\\^`|'.split('')), maxLength: 60 });
const path = fc.oneof(
  fc.constantFrom(...ROUTE_PATHS),
  fc.tuple(fc.constantFrom(...ROUTE_PATHS), printable).map(([p, s]) => p + s),
  fc.array(printable, { maxLength: 6 }).map((segs) => '/' + segs.join('/')),
);
const STANDARD_METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
const method = fc.constantFrom(...STANDARD_METHODS, 'BREW', 'get');
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 120 });
const body = fc.oneof(
  fc.constant(''),
  fc.json({ maxDepth: 4 }),
  fc.string({ maxLength: 400 }),
  fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.integer({ min: 15 * 1024, max: 40 * 1024 }).map((n) => '{"event_name":"' + 'a'.repeat(n) + '"}'),
);

function request(m: string, p: string, headers: [string, string][], b: string): Buffer {
  const bytes = Buffer.from(b, 'latin1');
  const lines = [`${m} ${p} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...headers.map(([k, v]) => `${k}: ${v}`), `Content-Length: ${bytes.length}`];
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), bytes]);
}

function checkAnswer(answer: { status: number; body: string }, what: string): void {
  expect(answer.status, what).toBeGreaterThanOrEqual(200);
  expect(answer.status, what).toBeLessThan(500);
  if (answer.status >= 400 && answer.body.length > 0) {
    const parsed = JSON.parse(answer.body) as { error: { code: string; message: string }; correlation_id: string };
    expect(typeof parsed.error.code, what).toBe('string');
    expect(typeof parsed.correlation_id, what).toBe('string');
  }
}

describe('fuzzing the HTTP API', () => {
  it('answers thousands of malformed requests below 500, stays up, and does not grow', async () => {
    const { port } = api.server;
    const token = api.tokens.operator;
    const requests = fc.record({
      m: method,
      p: path,
      b: body,
      auth: fc.oneof(fc.constant(`Bearer ${token}`), fc.constant(`Bearer ${api.tokens.admiral}`), fc.constant(''), headerValue, headerValue.map((v) => `Bearer ${v}`)),
      type: fc.oneof(fc.constant('application/json'), fc.constant('application/json; charset=utf-8'), headerValue),
      corr: headerValue,
      extra: fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/), headerValue), { maxLength: 4 }),
    });
    const run = async (runs: number, seed: number): Promise<void> => {
      await fc.assert(
        fc.asyncProperty(requests, async (r) => {
          const headers: [string, string][] = [...(r.auth ? [['Authorization', r.auth] as [string, string]] : []), ['Content-Type', r.type], ['X-Correlation-Id', r.corr], ...r.extra];
          const answer = await raw(request(r.m, r.p, headers, r.b), port, r.m === 'HEAD');
          // Every request is answered, methods this API does not know too (404, or 405 with Allow: gate/request-head.ts).
          checkAnswer(answer, `${r.m} ${r.p}`);
        }),
        { numRuns: runs, seed },
      );
    };
    await run(1000, 1);
    const before = process.memoryUsage();
    await run(2000, 2);
    const after = process.memoryUsage();
    // 2,000 more requests (some 40 KiB bodies among them) leave no trace: nothing per request is kept.
    expect(after.rss - before.rss).toBeLessThan(96 * 1024 * 1024);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(64 * 1024 * 1024);
    const health = await raw('GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', port);
    expect(health.status).toBe(200);
  }, 180_000);

  it('refuses bodies over the limit however they come: declared, or streamed in chunks', async () => {
    const { port } = api.server;
    const auth = `Authorization: Bearer ${api.tokens.operator}\r\n`;
    const declared = await raw(`POST /api/v1/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{`, port);
    expect(declared.status).toBe(413);
    const chunk = 'a'.repeat(8 * 1024);
    const chunked = `POST /api/v1/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` + `${(8 * 1024).toString(16)}\r\n${chunk}\r\n`.repeat(4) + '0\r\n\r\n';
    expect((await raw(chunked, port)).status).toBe(413);
    expect((await raw('GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', port)).status).toBe(200);
  });
});
