/** http.call against real servers on 127.0.0.1: bodies, statuses, limits in time and size, abort, redaction, input refusals. */
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerResponse } from 'node:http';
import { isRetryable } from '../../../src/core/errors.ts';
import {
  ActionAbortedError,
  ActionLimitError,
  ActionNetworkError,
  ActionTimeoutError,
  HttpStatusError,
  httpCall,
  idempotentFor,
  parseActionInput,
  redactedInput,
  type ActionContext,
  type HttpCallOutput,
} from '../../../src/xyn/actions/index.ts';
import { busOnLogPerTest } from '../../kernel/helpers.ts';
import { actionContext, readRequest, refusedField, serve, type TestServer } from './helpers.ts';

const t = busOnLogPerTest();
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function call(raw: Record<string, unknown>, ctx: ActionContext = actionContext(t.bus)): Promise<HttpCallOutput> {
  return httpCall.execute(parseActionInput(httpCall, raw), ctx);
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail('the call succeeded'),
    (err: unknown) => err,
  );
}

describe('http.call', () => {
  it('GETs JSON: status, lower-cased headers, the text and the parsed json', async () => {
    server = await serve((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'X-Custom': 'A' });
      res.end(JSON.stringify({ ok: true, path: req.url, method: req.method }));
    });
    const out = await call({ url: `${server.url}/health?x=1` });
    expect(out.status).toBe(200);
    expect(out.headers['x-custom']).toBe('A');
    expect(out.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(out.json).toEqual({ ok: true, path: '/health?x=1', method: 'GET' });
    expect(out.body).toBe(JSON.stringify(out.json));
    expect(httpCall.output.parse(out)).toEqual(out);
  });

  it('gives json null for a body that is not JSON', async () => {
    server = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('{"looks":"like json"}'));
    const out = await call({ url: server.url });
    expect(out).toMatchObject({ body: '{"looks":"like json"}', json: null });
  });

  it('POSTs an object as JSON with its content-type, and a string as it is', async () => {
    const seen: { type: string | undefined; body: string }[] = [];
    server = await serve((req, res) => {
      void readRequest(req).then((body) => {
        seen.push({ type: req.headers['content-type'], body });
        res.writeHead(201).end();
      });
    });
    const out = await call({ method: 'POST', url: server.url, body: { host: 'db1', n: [1, 2] } });
    await call({ method: 'PUT', url: server.url, body: 'plain words', headers: { 'Content-Type': 'text/plain' } });
    expect(out.status).toBe(201);
    expect(seen).toEqual([
      { type: 'application/json', body: '{"host":"db1","n":[1,2]}' },
      { type: 'text/plain', body: 'plain words' },
    ]);
  });

  it('refuses a status outside expect_status: retryable for 503, not for 404', async () => {
    server = await serve((req, res) => res.writeHead(Number(req.url?.slice(1))).end(`status ${req.url}`));
    const e503 = await failure(call({ url: `${server.url}/503` }));
    const e404 = await failure(call({ url: `${server.url}/404` }));
    expect(e503).toBeInstanceOf(HttpStatusError);
    expect(e503).toMatchObject({ status: 503, details: { body_excerpt: 'status /503' } });
    expect(isRetryable(e503)).toBe(true);
    expect(e404).toBeInstanceOf(HttpStatusError);
    expect(isRetryable(e404)).toBe(false);
    expect(isRetryable(await failure(call({ url: `${server.url}/429` })))).toBe(true);
    expect((await call({ url: `${server.url}/404`, expect_status: [404] })).status).toBe(404);
    expect(await failure(call({ url: `${server.url}/200`, expect_status: [201] }))).toBeInstanceOf(HttpStatusError);
  });

  it('gives up after timeout_ms on a server that never answers (retryable)', async () => {
    server = await serve(() => {});
    const started = Date.now();
    const err = await failure(call({ url: server.url, timeout_ms: 200 }));
    expect(err).toBeInstanceOf(ActionTimeoutError);
    expect(err).toMatchObject({ timeout_ms: 200 });
    expect(isRetryable(err)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses a streamed body past max_response_bytes and cancels the stream', async () => {
    let closed!: Promise<number>;
    server = await serve((_req, res) => {
      closed = new Promise((resolve) => res.on('close', () => resolve(sent)));
      let sent = 0;
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = (r: ServerResponse) => {
        while (!r.destroyed && r.write(chunk)) sent += chunk.length;
        if (!r.destroyed) r.once('drain', () => pump(r));
      };
      res.writeHead(200, { 'content-type': 'text/plain' });
      pump(res);
    });
    const err = await failure(call({ url: server.url, max_response_bytes: 100_000 }));
    expect(err).toBeInstanceOf(ActionLimitError);
    expect(err).toMatchObject({ limit: 'max_response_bytes' });
    expect((err as Error).message).toContain('max_response_bytes (100000)');
    expect(isRetryable(err)).toBe(false);
    // The server's response closes (the client hung up) instead of streaming forever.
    expect(await closed).toBeLessThan(100 * 1024 * 1024);
  });

  it('refuses a declared content-length past the limit without reading it', async () => {
    server = await serve((_req, res) => res.writeHead(200, { 'content-length': '5000' }).end('y'.repeat(5000)));
    const err = await failure(call({ url: server.url, max_response_bytes: 10 }));
    expect(err).toBeInstanceOf(ActionLimitError);
    expect((err as Error).message).toContain('5000 bytes');
    expect((await call({ url: server.url, max_response_bytes: 5000 })).body).toHaveLength(5000);
  });

  it("stops at once when the run's signal aborts (not retried)", async () => {
    let arrived!: () => void;
    const requested = new Promise<void>((resolve) => (arrived = resolve));
    server = await serve(() => arrived());
    const abort = new AbortController();
    const pending = failure(call({ url: server.url }, actionContext(t.bus, abort.signal)));
    await requested;
    abort.abort();
    const err = await pending;
    expect(err).toBeInstanceOf(ActionAbortedError);
    expect(isRetryable(err)).toBe(false);
    expect(await failure(call({ url: server.url }, actionContext(t.bus, abort.signal)))).toBeInstanceOf(ActionAbortedError);
  });

  it('names a refused connection as a retryable network error', async () => {
    const gone = await serve(() => {});
    await gone.close();
    const err = await failure(call({ url: gone.url }));
    expect(err).toBeInstanceOf(ActionNetworkError);
    expect(isRetryable(err)).toBe(true);
  });

  it('redacts secret headers in any letter case and a URL password, keeping the rest', () => {
    const input = parseActionInput(httpCall, {
      method: 'POST',
      url: 'https://bot:hunter2@api.example.com/v1?q=1',
      headers: { Authorization: 'Bearer s3cret', 'X-API-Key': 'k', cookie: 'sid=1', 'Proxy-Authorization': 'Basic x', Accept: 'application/json' },
      body: { a: 1 },
    });
    const shown = redactedInput(httpCall, input);
    expect(shown.headers).toEqual({ Authorization: '[redacted]', 'X-API-Key': '[redacted]', cookie: '[redacted]', 'Proxy-Authorization': '[redacted]', Accept: 'application/json' });
    expect(shown.url).not.toContain('hunter2');
    expect(shown.url).toContain('bot:');
    expect(shown.body).toEqual({ a: 1 });
    expect(input.headers?.Authorization).toBe('Bearer s3cret');
    expect(JSON.stringify(shown)).not.toMatch(/s3cret|hunter2|sid=1/);
  });

  it('refuses input naming the field: a non-http URL, a body on GET, a timeout past the max', () => {
    const refusal = (raw: unknown) => refusedField(httpCall, raw);
    expect(refusal({ url: 'file:///etc/passwd' })).toBe('url');
    expect(refusal({ url: 'ftp://example.com/x' })).toBe('url');
    expect(refusal({ url: 'not a url' })).toBe('url');
    expect(refusal({ url: 'http://x', body: 'b' })).toBe('body');
    expect(refusal({ url: 'http://x', timeout_ms: 600_001 })).toBe('timeout_ms');
    expect(refusal({ url: 'http://x', max_response_bytes: 101 * 1024 * 1024 })).toBe('max_response_bytes');
    expect(refusal({ url: 'http://x', methd: 'GET' })).toBe('with');
  });

  it('is idempotent for GET, HEAD, PUT, DELETE and OPTIONS, not for POST or PATCH', () => {
    const idem = (method: string) => idempotentFor(httpCall, parseActionInput(httpCall, { method, url: 'http://x' }));
    expect(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'].map(idem)).toEqual([true, true, true, true, true]);
    expect(['POST', 'PATCH'].map(idem)).toEqual([false, false]);
    expect(httpCall.idempotent).toBe(false);
  });
});
