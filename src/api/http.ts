/**
 * HTTP on uWebSockets.js: one catch-all handler that routes, authenticates,
 * reads and checks the query and body, runs the route, and answers in JSON.
 *
 * In order, each failure with its status: unknown path 404, known path with
 * another method 405 (with `Allow`), no or bad token 401, missing capability
 * 403, body over the limit 413 (told by Content-Length at once, or counted as
 * it arrives), not JSON 415, unparseable JSON or JSON nested deeper than
 * MAX_NESTING levels 400, a query or body the route's schemas refuse 400
 * naming the field (validate.ts). Whatever a route throws
 * becomes the standard error (errors.ts). `X-Correlation-Id` is taken from the
 * request when it is sane, else made, and returned on every answer; each
 * request is logged once as JSON (method, path, status, ms, correlation_id).
 *
 * A route answers JSON, bytes (with their length, whole or piece after
 * piece: http-bytes.ts), or a stream of chunks taken as the client takes
 * them (http-stream.ts). A route that takes uploads reads its body itself,
 * as it arrives (request-stream.ts).
 *
 * uWS rules kept here: the request object is read synchronously, before any
 * await; an aborted response is never written; writes are corked.
 */
import { randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Logger } from '../kernel/log.ts';
import { MAX_NESTING, deepFieldName, nestedTooDeep, tooDeepRule } from '../core/nesting.ts';
import { ANONYMOUS, type Principal } from './auth.ts';
import { ApiError, errorBody, toApiError } from './errors.ts';
import { BODY_METHODS, authorize, decodePath, type ApiResponse, type BytesStreamResponse, type Router, type StreamResponse } from './router.ts';
import { pumpChunks, type StreamCounters } from './http-stream.ts';
import { pumpBytes } from './http-bytes.ts';
import { RequestStream } from './request-stream.ts';
import { checkParams } from './params.ts';
import { routeInput } from './validate.ts';
import type { RefusalCodec } from './gate/refusal.ts';
import { RESERVED_FIELD } from './gate/request-head.ts';
import { STREAM_PATH } from './stream-limits.ts';
import { isPagePath, type BrowserRequest, type PageServer } from './pages.ts';

export interface HttpOptions {
  router: Router;
  /** The principal of a request's Authorization header, or an ApiError (401). */
  authenticate(authorization: string): Principal | ApiError;
  log: Logger;
  maxBodyBytes: number;
  /** Where streamed answers count their backpressure. */
  streams: StreamCounters;
  /** Reads the requests the gate sends in place of those it refused (gate/refusal.ts). */
  refusals: RefusalCodec;
  /** The UI's pages (`/`, `/ui/...`), when the node serves them (pages.ts). */
  pages?: PageServer;
}

/** What a client's X-Correlation-Id must look like to be kept. */
export const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  201: '201 Created',
  202: '202 Accepted',
  206: '206 Partial Content',
  303: '303 See Other',
  304: '304 Not Modified',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  408: '408 Request Timeout',
  409: '409 Conflict',
  410: '410 Gone',
  413: '413 Payload Too Large',
  415: '415 Unsupported Media Type',
  416: '416 Range Not Satisfiable',
  422: '422 Unprocessable Entity',
  431: '431 Request Header Fields Too Large',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

/** What is read off a uWS request before anything async happens. */
interface Incoming {
  method: string;
  rawPath: string;
  query: string;
  authorization: string;
  contentType: string;
  contentLength: string;
  accept: string;
  range: string;
  correlationId: string;
  /** Set on the gate's stand-in for a request it refused (gate/refusal.ts). */
  refusal: string;
  /** What a page needs of the request (pages.ts); read for every request, as uWS's request is gone after the first await. */
  browser: Omit<BrowserRequest, 'method' | 'rawPath' | 'query' | 'contentType' | 'contentLength' | 'range' | 'correlationId'>;
}

/** The request's X-Correlation-Id when it is a sane one, else a new id. */
export function correlationIdOf(given: string): string {
  return CORRELATION_ID.test(given) ? given : randomUUID();
}

/** The status line text of a status code uWS is to write. */
export function statusLine(status: number): string {
  return STATUS_TEXT[status] ?? String(status);
}

export function serveHttp(app: TemplatedApp, options: HttpOptions): void {
  app.any('/*', (res: HttpResponse, req: HttpRequest) => {
    const started = performance.now();
    const given = req.getHeader('x-correlation-id');
    const incoming: Incoming = {
      method: req.getCaseSensitiveMethod().toUpperCase(),
      rawPath: req.getUrl(),
      query: req.getQuery() ?? '',
      authorization: req.getHeader('authorization'),
      contentType: req.getHeader('content-type'),
      contentLength: req.getHeader('content-length'),
      accept: req.getHeader('accept'),
      range: req.getHeader('range'),
      correlationId: correlationIdOf(given),
      refusal: req.getHeader(RESERVED_FIELD),
      browser: {
        cookie: req.getHeader('cookie'),
        host: req.getHeader('host'),
        origin: req.getHeader('origin'),
        fetchSite: req.getHeader('sec-fetch-site'),
        htmx: req.getHeader('hx-request') === 'true',
        csrfHeader: req.getHeader('x-csrf-token'),
      },
    };
    const reply = new Reply(res, incoming, started, options.log, options.streams);
    handle(reply, incoming, options).catch((err: unknown) => reply.fail(err));
  });
}

async function handle(reply: Reply, incoming: Incoming, options: HttpOptions): Promise<void> {
  if (incoming.refusal !== '') refused(incoming, options.refusals);
  if (options.pages && isPagePath(incoming.rawPath)) return options.pages.handle(reply, { ...incoming, ...incoming.browser });
  const segments = decodePath(incoming.rawPath);
  // HEAD is GET without the body (RFC 9110 §9.3.2): Reply writes no body for it.
  const match = options.router.match(incoming.method === 'HEAD' ? 'GET' : incoming.method, segments);
  if (!match) throw new ApiError(404, 'not_found', `no route ${incoming.method} ${incoming.rawPath}`);
  if ('allowed' in match) {
    const allowed = match.allowed.includes('GET') ? [...match.allowed, 'HEAD'] : match.allowed;
    reply.header('Allow', allowed.join(', '));
    throw new ApiError(405, 'method_not_allowed', `${incoming.rawPath} takes ${allowed.join(', ')}, not ${incoming.method}`);
  }
  const { route, params } = match;
  const query = new URLSearchParams(incoming.query);
  // A token in a URL ends up in logs and histories: only the stream's upgrade (stream.ts), which browsers cannot give headers, takes one.
  if (query.has('token')) {
    throw new ApiError(401, 'unauthorized', `?token= is accepted only on the stream (${STREAM_PATH}); send the token in the Authorization header: "Authorization: Bearer <token>"`, { field: 'query.token' });
  }
  let principal = ANONYMOUS;
  if (route.capability !== 'public') {
    const who = options.authenticate(incoming.authorization);
    if (who instanceof ApiError) throw who;
    authorize(route, who);
    principal = who;
  }
  if (route.params) checkParams(params, route.params);
  // An upload is read as it arrives, by its route; it must be listened to now, before anything is awaited.
  const stream = route.upload ? reply.readStream() : undefined;
  const raw = BODY_METHODS.has(route.method) && !stream ? await readJson(reply, incoming, options.maxBodyBytes) : undefined;
  const input = routeInput(route, query, raw);
  const result = await route.handle({
    method: route.method,
    path: incoming.rawPath,
    params,
    ...input,
    principal,
    correlationId: incoming.correlationId,
    accept: incoming.accept,
    contentType: incoming.contentType,
    range: incoming.range,
    ...(stream ? { stream } : {}),
  });
  await reply.send(result);
}

/**
 * The gate refused the client's request: answer for it (logged with the
 * client's method and path). A method uWS does not route goes on to the
 * router, which answers 404, or 405 with Allow.
 */
function refused(incoming: Incoming, refusals: RefusalCodec): void {
  const refusal = refusals.read(incoming.refusal);
  if (!refusal) throw new ApiError(400, 'bad_request', `the header ${RESERVED_FIELD} is reserved for the node itself`);
  incoming.method = refusal.method;
  incoming.rawPath = refusal.path;
  if (!refusal.route) throw new ApiError(refusal.status, refusal.code, refusal.message);
}

function readJson(reply: Reply, incoming: Incoming, limit: number): Promise<unknown> {
  const type = incoming.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  const declared = incoming.contentLength === '' ? 0 : Number(incoming.contentLength);
  if (declared > limit) return Promise.reject(new ApiError(413, 'payload_too_large', `the body is ${declared} bytes; the limit is ${limit}`));
  return reply.readBody(limit).then((bytes) => {
    if (bytes.length === 0) throw new ApiError(400, 'bad_request', 'the request needs a JSON body');
    if (type !== 'application/json') throw new ApiError(415, 'unsupported_media_type', `the body must be application/json, got ${type || 'no Content-Type'}`);
    let body: unknown;
    try {
      body = JSON.parse(bytes.toString('utf8')) as unknown;
    } catch (err) {
      throw new ApiError(400, 'bad_request', `the body is not valid JSON: ${(err as Error).message}`);
    }
    // Checked here, before any route encodes or hashes it (their walks recurse: nesting.ts).
    const deep = nestedTooDeep(body);
    if (deep) {
      const field = deepFieldName('body', deep);
      throw new ApiError(400, 'bad_request', `${field}: ${tooDeepRule()}`, { field, limit: MAX_NESTING });
    }
    return body;
  });
}

/** One response: written once, never after the client went away. */
class Reply {
  private aborted = false;
  private done = false;
  private readonly headers: [string, string][] = [];
  private bodyWaiter: { resolve: (b: Buffer) => void; reject: (e: unknown) => void } | undefined;
  private upload: RequestStream | undefined;
  /** A stream waiting for its socket to drain: woken by onWritable, or by the client going away. */
  private wake: (() => void) | undefined;

  constructor(
    private readonly res: HttpResponse,
    private readonly incoming: Incoming,
    private readonly started: number,
    private readonly log: Logger,
    private readonly streams: StreamCounters,
  ) {
    res.onAborted(() => {
      this.aborted = true;
      this.bodyWaiter?.reject(new ApiError(400, 'aborted', 'the client went away'));
      this.upload?.abort(new ApiError(400, 'aborted', 'the client went away before its upload ended'));
      this.wake?.();
    });
  }

  header(name: string, value: string): void {
    this.headers.push([name, value]);
  }

  /** The body, up to `limit` bytes (413 past it). Must be called before anything else is awaited. */
  readBody(limit: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.bodyWaiter = { resolve, reject };
      const chunks: Buffer[] = [];
      let size = 0;
      this.res.onData((chunk, isLast) => {
        if (size < 0) return;
        size += chunk.byteLength;
        if (size > limit) {
          size = -1;
          reject(new ApiError(413, 'payload_too_large', `the body is over the limit of ${limit} bytes`));
          return;
        }
        // uWS reuses the chunk's memory once this returns: copy it.
        chunks.push(Buffer.from(Buffer.from(chunk)));
        if (isLast) resolve(Buffer.concat(chunks));
      });
    });
  }

  /** The body as it arrives (an upload). Must be called before anything else is awaited. */
  readStream(): RequestStream {
    this.upload = new RequestStream(this.res);
    return this.upload;
  }

  async send(result: ApiResponse): Promise<void> {
    if ('headers' in result) for (const [name, value] of Object.entries(result.headers ?? {})) this.header(name, value);
    if ('chunks' in result) return this.stream(result);
    if ('pieces' in result) return this.pieces(result);
    if ('bytes' in result) return this.write(result.status ?? 200, result.contentType, result.bytes);
    this.write(result.status ?? 200, 'application/json', JSON.stringify(result.body));
  }

  fail(err: unknown): void {
    const api = toApiError(err);
    // A full store is said once, where it is found (store/space.ts), not again for each request it refuses.
    if (api.status >= 500 && api.code !== 'storage_full') this.log.error({ err, correlation_id: this.incoming.correlationId }, 'request failed');
    this.write(api.status, 'application/json', JSON.stringify(errorBody(api, this.incoming.correlationId)));
  }

  private write(status: number, contentType: string, body: string | Uint8Array): void {
    if (this.done) return;
    this.done = true;
    this.logRequest(status);
    if (this.aborted) return;
    this.upload?.release();
    this.res.cork(() => {
      this.head(status, contentType);
      if (this.incoming.method === 'HEAD') {
        // Written by hand: this uWS's endWithoutBody(length) leaves the response open (the next request on the connection would wait).
        this.res.writeHeader('Content-Length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength));
        this.res.endWithoutBody();
        return;
      }
      // A body that was not read (an early error) is not waited for: the connection closes after. An upload's is read past (request-stream.ts).
      this.res.end(body, this.bodyWaiter === undefined && this.upload === undefined && BODY_METHODS.has(this.incoming.method) && status >= 400);
    });
  }

  /**
   * A 200 written as its chunks come. If the source fails before its first
   * chunk, the error is answered as usual (nothing was written yet).
   */
  private async stream(result: StreamResponse): Promise<void> {
    if (this.done) return;
    // The head a GET would get (its length is not known before it is written: none is said).
    if (this.incoming.method === 'HEAD') return this.headOnly(200, result.contentType);
    let written = false;
    const sink = {
      res: this.res,
      head: () => {
        written = this.done = true;
        this.head(200, result.contentType);
      },
      gone: () => this.aborted,
      drained: () =>
        new Promise<void>((resolve) => {
          this.wake = resolve;
          this.res.onWritable(() => {
            this.wake = undefined;
            resolve();
            return true;
          });
        }),
    };
    try {
      const complete = await pumpChunks(result.chunks, sink, this.streams);
      if (!complete) this.done = true;
      this.logRequest(200, complete ? {} : { cut: true });
    } catch (err) {
      if (!written) throw err;
      this.log.error({ err, correlation_id: this.incoming.correlationId }, 'stream cut short: its source failed');
      this.logRequest(200, { cut: true });
    }
  }

  /** Bytes of a known length, piece after piece (a download); HEAD gets the head alone. */
  private async pieces(result: BytesStreamResponse): Promise<void> {
    if (this.done) return;
    const status = result.status ?? 200;
    if (this.incoming.method === 'HEAD') return this.headOnly(status, result.contentType, result.length);
    this.done = true;
    let written = false;
    const sink = {
      res: this.res,
      head: () => {
        written = true;
        this.head(status, result.contentType);
      },
      gone: () => this.aborted,
      onGone: (wake: () => void) => (this.wake = wake),
    };
    try {
      const complete = await pumpBytes(result.pieces, result.length, sink);
      this.logRequest(status, complete ? {} : { cut: true });
    } catch (err) {
      if (!written) {
        this.done = false;
        throw err;
      }
      this.log.error({ err, correlation_id: this.incoming.correlationId }, 'download cut short: its source failed');
      this.logRequest(status, { cut: true });
    }
  }

  /** A HEAD's answer: the status line and headers, with the body's length when it is known. */
  private headOnly(status: number, contentType: string, length?: number): void {
    this.done = true;
    this.logRequest(status);
    if (this.aborted) return;
    this.res.cork(() => {
      this.head(status, contentType);
      if (length !== undefined) this.res.writeHeader('Content-Length', String(length));
      this.res.endWithoutBody();
    });
  }

  /** The status line and headers (inside a cork). */
  private head(status: number, contentType: string): void {
    this.res.writeStatus(statusLine(status));
    this.res.writeHeader('Content-Type', contentType);
    this.res.writeHeader('X-Correlation-Id', this.incoming.correlationId);
    for (const [name, value] of this.headers) this.res.writeHeader(name, value);
  }

  private logRequest(status: number, extra: Record<string, unknown> = {}): void {
    const ms = Math.round((performance.now() - this.started) * 100) / 100;
    this.log.info({ method: this.incoming.method, path: this.incoming.rawPath, status, ms, correlation_id: this.incoming.correlationId, ...extra }, 'request');
  }
}
