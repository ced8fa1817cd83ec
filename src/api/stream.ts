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
 * `{"type":"error","error":{code,message}}`.
 *
 * Each subscribe is one bus subscription: with `since`, history from the log
 * then live events, no gap and no duplicate (the bus joins them), and it never
 * loses an event (it re-reads the log when it falls behind) that retention
 * has not trimmed: a `since` below the oldest kept seq, or a replay that
 * retention overtakes, gets `truncated` (seqs from_seq..to_seq are gone) and
 * then goes on from the oldest kept; without `since`, live events with a
 * bounded queue that drops the oldest and says `lagged`.
 * Unsubscribing some topics re-subscribes the rest from the last event sent,
 * so nothing is skipped or repeated.
 *
 * Backpressure: a client's events are taken from its subscriptions only
 * while its socket holds less than HIGH_WATER bytes; past it, taking stops
 * until uWS says the socket drained. Memory per client is bounded by that
 * and its subscriptions' queues. A client that stays stalled longer than
 * `stallMs` is told it lagged and closed with 4008: the publisher and the
 * other clients never wait for it.
 */
import type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_socket_context_t } from 'uWebSockets.js';
import { z } from 'zod';
import type { Bus } from '../kernel/bus.ts';
import type { XynEvent } from '../kernel/event.ts';
import type { Delivery, Subscription } from '../kernel/subscription.ts';
import { decode, encode } from '../kernel/codec.ts';
import { compilePattern } from '../kernel/topic.ts';
import { describeIssue } from '../kernel/errors.ts';
import type { Logger } from '../kernel/log.ts';
import { visibleTo, type Principal } from './auth.ts';
import { ApiError, errorBody } from './errors.ts';
import { correlationIdOf, statusLine } from './http.ts';

export const STREAM_PATH = '/api/v1/stream';
/** Close code for a client that fell too far behind. */
export const CLOSE_SLOW_CONSUMER = 4008;

const HIGH_WATER = 256 * 1024;
const MAX_SUBSCRIPTIONS = 32;
/** Live (no `since`) subscriptions queue at most this many events per client. */
const LIVE_QUEUE = 2048;

export interface StreamOptions {
  bus: Bus;
  authenticate(authorization: string, queryToken: string | null): Principal | ApiError;
  log: Logger;
  /** How long a client may stay stalled on backpressure before it is closed (default 10 s). */
  stallMs?: number;
}

interface ClientData {
  principal: Principal;
  codec: 'json' | 'msgpack';
  client?: StreamClient;
}

const clientFrame = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('subscribe'),
    topics: z.array(z.string().min(1).max(256)).min(1).max(32),
    since: z.number().int().min(0).optional(),
  }),
  z.strictObject({
    op: z.literal('unsubscribe'),
    sub: z.number().int().min(1).optional(),
    topics: z.array(z.string().min(1).max(256)).min(1).max(32).optional(),
  }),
]);

export interface StreamHandle {
  clients(): number;
  /** Closes every connection made with this token (it was revoked): code 4001. */
  closeToken(tokenId: string): void;
  close(): void;
}

/** Close code for a connection whose token was revoked. */
export const CLOSE_TOKEN_REVOKED = 4001;

export function serveStream(app: TemplatedApp, options: StreamOptions): StreamHandle {
  const clients = new Set<StreamClient>();
  const stallMs = options.stallMs ?? 10_000;
  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const c of clients) c.closeIfStalled(now, stallMs);
  }, Math.max(100, Math.min(1000, stallMs / 4)));
  watchdog.unref();

  app.ws<ClientData>(STREAM_PATH, {
    maxPayloadLength: 64 * 1024,
    // Above HIGH_WATER: room for the last batch and a closing notice.
    maxBackpressure: 4 * HIGH_WATER,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t) {
      const query = new URLSearchParams(req.getQuery() ?? '');
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const correlationId = correlationIdOf(req.getHeader('x-correlation-id'));
      const who = options.authenticate(req.getHeader('authorization'), query.get('token'));
      const codec = query.get('codec') ?? 'json';
      let refusal: ApiError | undefined;
      if (who instanceof ApiError) refusal = who;
      else if (!who.capabilities.has('xyn:events:read')) refusal = new ApiError(403, 'forbidden', `the stream needs the xyn:events:read capability; role ${who.role} does not have it`);
      else if (codec !== 'json' && codec !== 'msgpack') refusal = new ApiError(400, 'bad_request', `codec must be json or msgpack, got ${codec.slice(0, 40)}`);
      if (refusal) {
        res.cork(() => {
          res.writeStatus(statusLine(refusal.status));
          res.writeHeader('Content-Type', 'application/json');
          res.end(JSON.stringify(errorBody(refusal, correlationId)), true);
        });
        return;
      }
      res.upgrade<ClientData>({ principal: who as Principal, codec: codec as ClientData['codec'] }, key, protocol, extensions, context);
    },
    open(ws) {
      const data = ws.getUserData();
      const client = new StreamClient(ws, options.bus, data.principal, data.codec, options.log);
      data.client = client;
      clients.add(client);
    },
    message(ws, message, isBinary) {
      ws.getUserData().client?.receive(Buffer.from(message), isBinary);
    },
    drain(ws) {
      ws.getUserData().client?.drained();
    },
    close(ws) {
      const client = ws.getUserData().client;
      if (!client) return;
      client.closed();
      clients.delete(client);
    },
  });
  return {
    clients: () => clients.size,
    closeToken: (tokenId) => {
      for (const c of [...clients]) if (c.tokenId === tokenId) c.end(CLOSE_TOKEN_REVOKED, 'token revoked');
    },
    close: () => {
      clearInterval(watchdog);
      for (const c of [...clients]) c.end(1001, 'the node is stopping');
    },
  };
}

interface Entry {
  id: number;
  topics: string[];
  sub: Subscription;
  /** Seq of the last event sent (where a re-subscription goes on from). */
  lastSeq: number;
}

/** One connected client: its subscriptions and the loops that feed its socket. */
class StreamClient {
  private readonly entries = new Map<number, Entry>();
  private nextId = 1;
  private isClosed = false;
  private stalledSince: number | undefined;
  private drainWaiters: (() => void)[] = [];
  private readonly visible: (e: XynEvent) => boolean;
  readonly tokenId: string | undefined;

  constructor(
    private readonly ws: WebSocket<ClientData>,
    private readonly bus: Bus,
    principal: Principal,
    private readonly codec: 'json' | 'msgpack',
    private readonly log: Logger,
  ) {
    this.visible = visibleTo(principal);
    this.tokenId = principal.token_id;
  }

  receive(bytes: Buffer, isBinary: boolean): void {
    let frame: unknown;
    try {
      frame = isBinary && this.codec === 'msgpack' ? decode(bytes) : JSON.parse(bytes.toString('utf8'));
    } catch {
      return this.error('bad_request', `a client frame must be ${this.codec === 'msgpack' ? 'msgpack or ' : ''}JSON`);
    }
    const parsed = clientFrame.safeParse(frame);
    if (!parsed.success) {
      return this.error('bad_request', describeIssue('', parsed.error.issues[0] as z.core.$ZodIssue, 'frame'));
    }
    const op = parsed.data;
    if (op.op === 'subscribe') this.subscribe(op.topics, op.since);
    else this.unsubscribe(op.sub, op.topics);
  }

  drained(): void {
    if (this.ws.getBufferedAmount() >= HIGH_WATER) return;
    this.stalledSince = undefined;
    this.wakePumps();
  }

  /** The socket is gone (uWS invalidates it): end the subscriptions and wake the pumps, which then stop. */
  closed(): void {
    this.isClosed = true;
    for (const e of this.entries.values()) e.sub.unsubscribe();
    this.entries.clear();
    this.wakePumps();
  }

  private wakePumps(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  /** Closes the connection from the server's side (the node stops, the token was revoked), saying why. */
  end(code: number, reason: string): void {
    if (this.isClosed) return;
    this.error(code === CLOSE_TOKEN_REVOKED ? 'token_revoked' : 'closing', reason);
    this.isClosed = true;
    this.ws.end(code, reason);
  }

  /** Closes the client if its socket has been full for longer than `stallMs`, telling it what it missed. */
  closeIfStalled(now: number, stallMs: number): void {
    if (this.isClosed || this.stalledSince === undefined || now - this.stalledSince < stallMs) return;
    let skipped = 0;
    for (const e of this.entries.values()) {
      const d = e.sub.poll();
      if (d?.type === 'lagged') skipped += d.skipped;
    }
    this.send({ type: 'lagged', skipped, closing: true, reason: `fell behind the stream for ${stallMs} ms` });
    this.log.warn({ stalled_ms: now - this.stalledSince, skipped }, 'stream client closed: too slow');
    this.isClosed = true;
    this.ws.end(CLOSE_SLOW_CONSUMER, 'slow consumer: fell behind the event stream');
  }

  private subscribe(topics: string[], since: number | undefined): void {
    if (this.entries.size >= MAX_SUBSCRIPTIONS) return this.error('too_many_subscriptions', `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection`);
    for (const t of topics) {
      try {
        compilePattern(t);
      } catch (err) {
        return this.error('bad_request', `topics: ${(err as Error).message}`);
      }
    }
    if (since !== undefined && since > this.bus.lastSeq) return this.error('bad_request', `since: ${since} is past the last event (${this.bus.lastSeq})`);
    const id = this.nextId++;
    const start = since ?? this.bus.lastSeq;
    this.send({ type: 'subscribed', sub: id, topics, since: since ?? null, last_seq: this.bus.lastSeq, oldest_seq: this.bus.oldestSeq });
    this.start({ id, topics, sub: this.open(topics, since), lastSeq: start });
  }

  private unsubscribe(id: number | undefined, topics: string[] | undefined): void {
    const ended: number[] = [];
    for (const e of [...this.entries.values()]) {
      if (id !== undefined && e.id !== id) continue;
      const rest = topics ? e.topics.filter((t) => !topics.includes(t)) : [];
      if (rest.length === e.topics.length) continue;
      e.sub.unsubscribe();
      this.entries.delete(e.id);
      ended.push(e.id);
      // The remaining topics go on from the last event sent: no gap, no repeat.
      if (rest.length > 0) this.start({ ...e, topics: rest, sub: this.open(rest, e.lastSeq) });
    }
    this.send({ type: 'unsubscribed', subs: ended });
  }

  private open(topics: string[], since: number | undefined): Subscription {
    return this.bus.subscribe(topics, { queueSize: LIVE_QUEUE, ...(since === undefined ? { lag: 'skip' } : { since, lag: 'replay' }) });
  }

  private start(entry: Entry): void {
    this.entries.set(entry.id, entry);
    this.pump(entry).catch((err: unknown) => this.log.error({ err }, 'stream pump failed'));
  }

  /** Feeds one subscription to the socket while the socket has room. */
  private async pump(entry: Entry): Promise<void> {
    const { sub } = entry;
    for (;;) {
      const first = await sub.next();
      if (!first || this.isClosed || this.entries.get(entry.id)?.sub !== sub) return;
      this.ws.cork(() => {
        for (let d: Delivery | undefined = first; d; d = this.ws.getBufferedAmount() < HIGH_WATER ? sub.poll() : undefined) this.deliver(entry, d);
      });
      if (this.ws.getBufferedAmount() >= HIGH_WATER) {
        this.stalledSince ??= Date.now();
        await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
      }
    }
  }

  private deliver(entry: Entry, d: Delivery): void {
    if (d.type === 'lagged') {
      this.send({ type: 'lagged', sub: entry.id, skipped: d.skipped, from_seq: d.from_seq, to_seq: d.to_seq });
      return;
    }
    if (d.type === 'truncated') {
      // Past the gap: a re-subscription (unsubscribing some topics) goes on from here, not into it again.
      entry.lastSeq = d.to_seq;
      this.send({ type: 'truncated', sub: entry.id, oldest_seq: d.oldest_seq, from_seq: d.from_seq, to_seq: d.to_seq });
      return;
    }
    entry.lastSeq = d.event.seq;
    if (!this.visible(d.event)) return;
    if (this.codec === 'msgpack') this.ws.send(encode({ type: 'event', sub: entry.id, event: d.event }), true);
    else this.ws.send(`{"type":"event","sub":${entry.id},"event":${eventJson(d.event)}}`, false);
  }

  private error(code: string, message: string): void {
    this.send({ type: 'error', error: { code, message } });
  }

  private send(frame: Record<string, unknown>): void {
    if (this.isClosed) return;
    this.ws.cork(() => {
      if (this.codec === 'msgpack') this.ws.send(encode(frame), true);
      else this.ws.send(JSON.stringify(frame), false);
    });
  }
}

/** An event's JSON, made once however many clients get the same live event. */
const jsonOf = new WeakMap<XynEvent, string>();
function eventJson(event: XynEvent): string {
  let json = jsonOf.get(event);
  if (json === undefined) jsonOf.set(event, (json = JSON.stringify(event)));
  return json;
}

