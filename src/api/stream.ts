/**
 * The live event stream: WebSocket at `/api/v1/stream` (DESIGN.md §6).
 *
 * The upgrade needs a token (Authorization header or `?token=`) with
 * `xyn:events:read`; `?codec=msgpack` makes frames binary msgpack, else
 * JSON text. Client frames:
 *
 *   {"op":"subscribe","topics":["hxo.shard.*"],"since":SEQ?}   → {"type":"subscribed","sub":N,"topics":[…],"since":…,"last_seq":…,"oldest_seq":…}
 *   {"op":"unsubscribe","sub":N} | {"op":"unsubscribe","topics":[…]} → {"type":"unsubscribed","subs":[…]}
 *
 * and server frames `{"type":"event","sub":N,"event":{…}}`,
 * `{"type":"lagged","sub":N,"skipped":K,"from_seq":…,"to_seq":…}`,
 * `{"type":"truncated","sub":N,"oldest_seq":S,"from_seq":…,"to_seq":…}`,
 * `{"type":"error","error":{code,message,details?}}`.
 *
 * Each subscribe is a position in the log (stream-cursor.ts): with `since`,
 * history then live events, no gap and no duplicate, never losing an event
 * retention has not trimmed (`truncated` says what it did); without, live
 * events, skipping (`lagged`) what falls too far behind. Connections take
 * events only while their socket has room (stream-client.ts), from one cache
 * of encoded events the node's connections share (event-frames.ts), so
 * memory is bounded per connection and per node whatever the log holds
 * (stream-limits.ts; docs/stream.md). A client that stays stalled longer
 * than `stallMs` is told it lagged and closed with 4008: the publisher and
 * the other clients never wait for it.
 *
 * This module wires that to uWS: the upgrade, the per-node limits, the
 * watchdog, and waking the connections when the bus appends.
 */
import type { HttpRequest, HttpResponse, TemplatedApp, us_socket_context_t } from 'uWebSockets.js';
import type { Bus } from '../kernel/bus.ts';
import type { Logger } from '../kernel/log.ts';
import type { EventLog } from '../store/event-log.ts';
import type { Capability, Principal } from './auth.ts';
import { ApiError, errorBody } from './errors.ts';
import { EventFrames, FRAME_CODECS, type FrameCodec, type FrameStats } from './event-frames.ts';
import { sameOrigin, sessionToken } from './pages.ts';
import { correlationIdOf, statusLine } from './http.ts';
import { CLOSE_TOKEN_REVOKED, StreamClient, type ClientData, type StreamContext } from './stream-client.ts';
import { READ_LIMIT_BYTES, STREAM_PATH, tooManyClients, type StreamLimits } from './stream-limits.ts';

export { CLOSE_SLOW_CONSUMER, CLOSE_TOKEN_REVOKED } from './stream-client.ts';

/** What the upgrade needs. */
export const STREAM_CAPABILITY: Capability = 'xyn:events:read';

export interface StreamOptions {
  bus: Bus;
  /** The log the bus appends to: history is read from it a page at a time. */
  events: EventLog;
  authenticate(authorization: string, queryToken: string | null): Principal | ApiError;
  log: Logger;
  limits: StreamLimits;
  /** How long a client may stay stalled on backpressure before it is closed (default 10 s). */
  stallMs?: number;
}

export interface StreamStats {
  clients: number;
  /** Of those, the ones whose socket is full (they take no events until it drains). */
  stalled: number;
  subscriptions: number;
  /** Connections closed for going over a limit (too many clients, subscriptions, patterns, frame bytes, ...). */
  refused: number;
  /** Frames received from clients (requests), since the node started. */
  requests: number;
  frames: FrameStats;
}

export interface StreamHandle {
  clients(): number;
  stats(): StreamStats;
  /** Closes every connection made with this token (it was revoked): code 4001. */
  closeToken(tokenId: string): void;
  close(): void;
}

export function serveStream(app: TemplatedApp, options: StreamOptions): StreamHandle {
  const { bus, log, limits } = options;
  const clients = new Set<StreamClient>();
  const frames = new EventFrames(options.events, limits.cacheBytes);
  let refused = 0;
  let requests = 0;
  const ctx: StreamContext = {
    frames,
    tail: () => bus.lastSeq,
    oldestSeq: () => bus.oldestSeq,
    limits,
    refused(r) {
      refused++;
      log.warn({ code: r.code, close: r.close, details: r.details }, 'stream client closed: over a limit');
    },
    log,
  };
  const stallMs = options.stallMs ?? 10_000;
  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const c of clients) c.closeIfStalled(now, stallMs);
  }, Math.max(100, Math.min(1000, stallMs / 4)));
  watchdog.unref();

  // New events: those that connections at the tail wait for are encoded from the objects at hand, live
  // subscriptions keep within their window (the names are at hand), and the connections are woken in a
  // turn of their own, so that the publisher never waits.
  let waking = false;
  const stopWatching = bus.onAppended((events) => {
    try {
      const before = (events[0]?.seq ?? 1) - 1;
      frames.appended(events, (name) => {
        const codecs = new Set<FrameCodec>();
        for (const c of clients) if (!codecs.has(c.codec) && c.waitsFor(name, before)) codecs.add(c.codec);
        return [...codecs];
      });
      const tail = bus.lastSeq;
      for (const c of clients) c.keepUp(tail);
    } catch (err) {
      // The bus must go on (its publishers wait on this loop); what was not encoded here is read from the log.
      log.error({ err }, 'stream: taking in appended events failed');
    }
    if (waking) return;
    waking = true;
    setImmediate(() => {
      waking = false;
      for (const c of clients) c.pump();
    });
  });

  app.ws<ClientData>(STREAM_PATH, {
    // Above the stream's own frame limit, so that a frame over it is read and answered (1009) rather than cut.
    maxPayloadLength: READ_LIMIT_BYTES,
    // No uWS limit (it would drop frames silently): the client sends only while under HIGH_WATER.
    maxBackpressure: 0,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t) {
      const query = new URLSearchParams(req.getQuery() ?? '');
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const correlationId = correlationIdOf(req.getHeader('x-correlation-id'));
      // A page of the node's UI has no token to give (its cookie is HttpOnly): its session cookie stands in, from the node's own pages only.
      const authorization = req.getHeader('authorization');
      const cookie = authorization === '' && !query.has('token') ? sessionToken(req.getHeader('cookie')) : '';
      const crossSite = cookie !== '' && !sameOrigin(req.getHeader('origin'), req.getHeader('host'));
      const who = crossSite ? new ApiError(403, 'cross_site', 'the stream refuses a session cookie sent from another site') : options.authenticate(authorization, query.get('token') ?? (cookie || null));
      const codec = query.get('codec') ?? 'json';
      let refusal: ApiError | undefined;
      if (who instanceof ApiError) refusal = who;
      else if (!who.capabilities.has(STREAM_CAPABILITY)) refusal = new ApiError(403, 'forbidden', `the stream needs the ${STREAM_CAPABILITY} capability; role ${who.role} does not have it`);
      else if (!(FRAME_CODECS as readonly string[]).includes(codec)) refusal = new ApiError(400, 'bad_request', `codec must be ${FRAME_CODECS.join(' or ')}, got ${codec.slice(0, 40)}`);
      if (refusal) {
        res.cork(() => {
          res.writeStatus(statusLine(refusal.status));
          res.writeHeader('Content-Type', 'application/json');
          res.end(JSON.stringify(errorBody(refusal, correlationId)), true);
        });
        return;
      }
      res.upgrade<ClientData>({ principal: who as Principal, codec: codec as FrameCodec }, key, protocol, extensions, context);
    },
    open(ws) {
      const data = ws.getUserData();
      const client = new StreamClient(ws, ctx, data.principal, data.codec);
      data.client = client;
      if (clients.size >= limits.maxClients) return client.refuse(tooManyClients(limits.maxClients));
      clients.add(client);
    },
    message(ws, message, isBinary) {
      requests++;
      ws.getUserData().client?.receive(message, isBinary);
    },
    drain(ws) {
      ws.getUserData().client?.drained();
    },
    close(ws, code, message) {
      const client = ws.getUserData().client;
      // uWS cut it (a frame over READ_LIMIT_BYTES, a text frame that is not UTF-8): the client got no close frame, so say it here.
      if (code === 1006 && message.byteLength > 0) log.warn({ reason: Buffer.from(message).toString() }, 'stream client cut by uWS');
      if (!client) return;
      client.closed();
      clients.delete(client);
    },
  });
  return {
    clients: () => clients.size,
    stats: () => {
      let subscriptions = 0;
      let stalled = 0;
      for (const c of clients) {
        subscriptions += c.subscriptions;
        if (c.stalled) stalled++;
      }
      return { clients: clients.size, stalled, subscriptions, refused, requests, frames: frames.stats() };
    },
    closeToken: (tokenId) => {
      for (const c of [...clients]) if (c.tokenId === tokenId) c.end(CLOSE_TOKEN_REVOKED, 'token revoked');
    },
    close: () => {
      clearInterval(watchdog);
      stopWatching();
      for (const c of [...clients]) c.end(1001, 'the node is stopping');
    },
  };
}
