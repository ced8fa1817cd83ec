/**
 * One stream connection: its requests, its subscriptions (stream-cursor.ts)
 * and the pump that feeds its socket while the socket has room.
 *
 * Memory per connection is bounded by the socket, not by the log: events
 * are taken from the subscriptions only while uWS holds less than
 * HIGH_WATER bytes for the socket; past it, nothing more is read or encoded
 * until uWS says it drained. So a connection costs at most HIGH_WATER plus
 * one event frame, a few answers (ANSWER_ROOM) and its subscriptions'
 * positions, however many events it is behind — paused or reading.
 *
 * An event frame is `{"type":"event","sub":N,"event":` + the event's bytes,
 * shared with every other subscription and connection (event-frames.ts), +
 * `}`, sent as three fragments of one WebSocket message: the shared bytes
 * are never copied into a frame of their own (uWS copies them once, into the
 * socket). msgpack frames are the same: a map whose last value is the
 * event's msgpack.
 *
 * The pump sends up to TURN_BYTES per turn of the event loop, the
 * subscriptions taking turns one step each, so that a fast reader does not
 * starve the other connections or the API.
 */
import type { WebSocket } from 'uWebSockets.js';
import { z } from 'zod';
import { decode, encode } from '../core/codec.ts';
import { describeIssue } from '../core/errors.ts';
import type { XynEvent } from '../core/event.ts';
import type { Logger } from '../kernel/log.ts';
import { compilePattern } from '../kernel/topic.ts';
import { visibleTo, type Principal } from './auth.ts';
import type { EventFrames, FrameCodec } from './event-frames.ts';
import { StreamCursor, type Step } from './stream-cursor.ts';
import { ANSWER_ROOM, HIGH_WATER, MAX_FRAME_BYTES, MAX_PATTERNS, frameTooLarge, invalidUtf8, notReading, tooManyPatterns, tooManySubscriptions, type Refusal, type StreamLimits } from './stream-limits.ts';

/** Close code for a client that fell too far behind. */
export const CLOSE_SLOW_CONSUMER = 4008;
/** Close code for a connection whose token was revoked. */
export const CLOSE_TOKEN_REVOKED = 4001;
/** Close code for a connection the node could not go on feeding (its log could not be read). */
export const CLOSE_INTERNAL_ERROR = 1011;

/** Bytes one connection may send in one turn of the event loop before the others get theirs. */
const TURN_BYTES = 512 * 1024;

const topics = z.array(z.string().min(1).max(256)).min(1).max(MAX_PATTERNS);
/** What a client may send: its check here, and its schema in the OpenAPI document (openapi-stream.ts). */
export const CLIENT_FRAME = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('subscribe'), topics, since: z.number().int().min(0).optional() }),
  z.strictObject({ op: z.literal('unsubscribe'), sub: z.number().int().min(1).optional(), topics: topics.optional() }),
]);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** What every connection of the node shares. */
export interface StreamContext {
  frames: EventFrames;
  /** The bus's last durable seq: subscriptions read up to it. */
  tail(): number;
  oldestSeq(): number;
  limits: StreamLimits;
  /** A client is being closed for going over a limit (counted, logged). */
  refused(r: Refusal): void;
  log: Logger;
}

export interface ClientData {
  principal: Principal;
  codec: FrameCodec;
  client?: StreamClient;
}

export class StreamClient {
  private readonly cursors = new Map<number, StreamCursor>();
  private nextId = 1;
  private isClosed = false;
  private stalledSince: number | undefined;
  private scheduled = false;
  /** Bytes of answers sent while the socket was full (reset when it drains below HIGH_WATER). */
  private unreadAnswers = 0;
  private readonly visible: (name: string) => boolean;
  readonly tokenId: string | undefined;

  constructor(
    private readonly ws: WebSocket<ClientData>,
    private readonly ctx: StreamContext,
    principal: Principal,
    readonly codec: FrameCodec,
  ) {
    this.visible = visibilityByName(principal);
    this.tokenId = principal.token_id;
  }

  get subscriptions(): number {
    return this.cursors.size;
  }

  /** A client frame (uWS has checked a text frame is UTF-8, and that none is over READ_LIMIT_BYTES). */
  receive(message: ArrayBuffer, isBinary: boolean): void {
    if (message.byteLength > MAX_FRAME_BYTES) return this.refuse(frameTooLarge(message.byteLength));
    let frame: unknown;
    if (isBinary && this.codec === 'msgpack') {
      try {
        frame = decode(Buffer.from(message)); // a copy: uWS reuses the message's memory
      } catch {
        return this.error('bad_request', 'a client frame must be msgpack or JSON');
      }
    } else {
      let text: string;
      try {
        text = utf8.decode(message);
      } catch {
        return this.refuse(invalidUtf8());
      }
      try {
        frame = JSON.parse(text);
      } catch {
        return this.error('bad_request', 'a client frame must be JSON');
      }
    }
    const patterns = (frame as { topics?: unknown } | null)?.topics;
    if (Array.isArray(patterns) && patterns.length > MAX_PATTERNS) return this.refuse(tooManyPatterns(patterns.length));
    const parsed = CLIENT_FRAME.safeParse(frame);
    if (!parsed.success) return this.error('bad_request', describeIssue('', parsed.error.issues[0] as z.core.$ZodIssue, 'frame'));
    const op = parsed.data;
    if (op.op === 'subscribe') this.subscribe(op.topics, op.since);
    else this.unsubscribe(op.sub, op.topics);
  }

  /** uWS says the socket drained some. */
  drained(): void {
    this.pump();
  }

  /**
   * Called as the bus appends: while the socket is full, live subscriptions
   * skip what the tail leaves LIVE_WINDOW behind. A client that reads is
   * never skipped: it catches up from the log as fast as its socket takes it.
   */
  keepUp(tail: number): void {
    if (this.stalledSince === undefined) return;
    for (const c of this.cursors.values()) c.keepUp(tail, this.ctx.frames);
  }

  /** A subscription that had everything up to `seq` matches `name`: it will send such an event right away. */
  waitsFor(name: string, seq: number): boolean {
    if (this.stalledSince !== undefined) return false;
    for (const c of this.cursors.values()) if (c.position >= seq && c.matches(name)) return true;
    return false;
  }

  /** Its socket is full: it takes no events until it drains. */
  get stalled(): boolean {
    return this.stalledSince !== undefined;
  }

  /** The socket is gone (uWS invalidates it). */
  closed(): void {
    this.isClosed = true;
    this.cursors.clear();
  }

  /** Closes the connection from the server's side (the node stops, the token was revoked, the log could not be read), saying why. */
  end(code: number, reason: string): void {
    if (this.isClosed) return;
    const why = code === CLOSE_TOKEN_REVOKED ? 'token_revoked' : code === CLOSE_INTERNAL_ERROR ? 'internal' : 'closing';
    this.write({ type: 'error', error: { code: why, message: reason } });
    this.isClosed = true;
    this.ws.end(code, reason);
  }

  /** Closes the client for going over a limit: the error frame says which and what to do, the close code says the same. */
  refuse(r: Refusal): void {
    if (this.isClosed) return;
    this.ctx.refused(r);
    this.write({ type: 'error', error: { code: r.code, message: r.message, details: r.details } });
    this.isClosed = true;
    this.ws.end(r.close, r.reason);
  }

  /** Closes the client if its socket has been full for longer than `stallMs`, telling it what it missed. */
  closeIfStalled(now: number, stallMs: number): void {
    if (this.isClosed || this.stalledSince === undefined || now - this.stalledSince < stallMs) return;
    let skipped = 0;
    for (const c of this.cursors.values()) skipped += c.takeLag();
    this.write({ type: 'lagged', skipped, closing: true, reason: `fell behind the stream for ${stallMs} ms` });
    this.ctx.log.warn({ stalled_ms: now - this.stalledSince, skipped }, 'stream client closed: too slow');
    this.isClosed = true;
    this.ws.end(CLOSE_SLOW_CONSUMER, 'slow consumer: fell behind the event stream');
  }

  /**
   * Sends what the subscriptions have while the socket has room, up to
   * TURN_BYTES; then goes on in the next turn, or waits for uWS's drain
   * (socket full) or the bus's next append (all caught up).
   */
  pump(): void {
    if (this.isClosed) return;
    if (this.ws.getBufferedAmount() >= HIGH_WATER) {
      this.stalledSince ??= Date.now();
      return;
    }
    // It has room again (uWS may have written to the kernel without a drain event).
    this.stalledSince = undefined;
    this.unreadAnswers = 0;
    if (this.scheduled) return;
    const tail = this.ctx.tail();
    let sent = 0;
    try {
      this.ws.cork(() => {
        for (let progressed = true; progressed && sent < TURN_BYTES; ) {
          progressed = false;
          for (const c of this.cursors.values()) {
            if (this.ws.getBufferedAmount() >= HIGH_WATER) return;
            const step = c.next(tail, this.ctx.frames, this.codec);
            if (!step) continue;
            progressed = true;
            sent += this.deliver(c, step);
          }
        }
      });
    } catch (err) {
      // Reading the log failed: this client can no longer be sent everything in order, so it is told and closed.
      this.ctx.log.error({ err }, 'stream: reading events for a client failed');
      return this.end(CLOSE_INTERNAL_ERROR, 'the node could not read the event log');
    }
    if (this.ws.getBufferedAmount() >= HIGH_WATER) {
      this.stalledSince ??= Date.now();
      return;
    }
    if (sent >= TURN_BYTES || this.behind(tail)) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.pump();
      });
    }
  }

  /** Some subscription has more to look at (it stopped for this turn, or has a notice to send). */
  private behind(tail: number): boolean {
    for (const c of this.cursors.values()) if (c.behind(tail)) return true;
    return false;
  }

  private subscribe(topics: string[], since: number | undefined): void {
    if (this.cursors.size >= this.ctx.limits.maxSubscriptions) return this.refuse(tooManySubscriptions(this.ctx.limits.maxSubscriptions));
    for (const t of topics) {
      try {
        compilePattern(t);
      } catch (err) {
        return this.error('bad_request', `topics: ${(err as Error).message}`);
      }
    }
    const tail = this.ctx.tail();
    if (since !== undefined && since > tail) return this.error('bad_request', `since: ${since} is past the last event (${tail})`);
    const id = this.nextId++;
    this.answer({ type: 'subscribed', sub: id, topics, since: since ?? null, last_seq: tail, oldest_seq: this.ctx.oldestSeq() });
    this.cursors.set(id, new StreamCursor(id, topics, since === undefined, since ?? tail, this.visible));
    this.pump();
  }

  private unsubscribe(id: number | undefined, topics: string[] | undefined): void {
    const ended: number[] = [];
    for (const c of [...this.cursors.values()]) {
      if (id !== undefined && c.id !== id) continue;
      const rest = topics ? c.topics.filter((t) => !topics.includes(t)) : [];
      if (rest.length === c.topics.length) continue;
      ended.push(c.id);
      // The remaining topics go on from where the subscription is: no gap, no repeat.
      if (rest.length > 0) c.retopic(rest);
      else this.cursors.delete(c.id);
    }
    this.answer({ type: 'unsubscribed', subs: ended });
  }

  /** Sends one step; returns the bytes it took. */
  private deliver(c: StreamCursor, step: Step): number {
    if (step.type === 'lagged') return this.write({ type: 'lagged', sub: c.id, skipped: step.skipped, from_seq: step.from_seq, to_seq: step.to_seq });
    if (step.type === 'truncated') return this.write({ type: 'truncated', sub: c.id, oldest_seq: step.oldest_seq, from_seq: step.from_seq, to_seq: step.to_seq });
    const binary = this.codec === 'msgpack';
    const head = c.frameHead ??= binary ? msgpackHead(c.id) : `{"type":"event","sub":${c.id},"event":`;
    this.ws.sendFirstFragment(head, binary);
    const bytes = (binary ? step.msgpack : step.json) as string | Uint8Array; // the subscription made sure of them
    this.ws.sendFragment(bytes);
    if (binary) this.ws.sendLastFragment(EMPTY);
    else this.ws.sendLastFragment('}');
    return head.length + bytes.length + 1;
  }

  private error(code: string, message: string): void {
    this.answer({ type: 'error', error: { code, message } });
  }

  /**
   * An answer to a request. Answers go out whatever the socket holds, but a
   * client that keeps asking while its socket stays full (it does not read)
   * is closed once ANSWER_ROOM bytes of them pile up.
   */
  private answer(frame: Record<string, unknown>): void {
    const bytes = this.write(frame);
    if (this.stalledSince === undefined) {
      if (this.ws.getBufferedAmount() < HIGH_WATER) return;
      this.stalledSince = Date.now(); // full of answers alone: it does not read
    }
    this.unreadAnswers += bytes;
    if (this.unreadAnswers > ANSWER_ROOM) this.refuse(notReading(this.unreadAnswers));
  }

  private write(frame: Record<string, unknown>): number {
    if (this.isClosed) return 0;
    const bytes = this.codec === 'msgpack' ? encode(frame) : JSON.stringify(frame);
    this.ws.cork(() => this.ws.send(bytes, this.codec === 'msgpack'));
    return bytes.length;
  }
}

const EMPTY = new Uint8Array(0);

/** `{type: "event", sub: N, event: ` as msgpack: a map of three whose last value, the event's msgpack, follows. */
function msgpackHead(sub: number): Uint8Array {
  return Buffer.concat([Uint8Array.of(0x83), ...['type', 'event', 'sub', sub, 'event'].map((v) => encode(v))]);
}

/** visibleTo (auth.ts), which looks at an event's name only, by name; the last answers are kept (it is asked for every event sent). */
function visibilityByName(principal: Principal): (name: string) => boolean {
  const visible = visibleTo(principal);
  const known = new Map<string, boolean>();
  return (name) => {
    let v = known.get(name);
    if (v === undefined) {
      if (known.size >= 256) known.clear(); // names are few; any number of them costs no more than this
      known.set(name, (v = visible({ event_name: name } as XynEvent)));
    }
    return v;
  };
}
