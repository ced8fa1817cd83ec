/**
 * A subscription to a node's event stream as an async iterator that does
 * not lose its place: every event whose name matches, once each, in the
 * log's order, across dropped connections and node restarts.
 *
 * It keeps the seq of the last event it delivered. Whenever it (re)connects
 * it subscribes `since` that seq, so the node replays what it missed from its
 * durable log; an event at or below that seq (a replay's overlap) is
 * dropped. A live subscription that fell behind (`lagged`) is subscribed
 * again the same way. What it cannot mend ends the iteration with an error:
 * events trimmed by the node's retention before it had them
 * (StreamTruncatedError), or a refusal (bad pattern, revoked token: the
 * node's error frame, as StreamRefusedError).
 *
 *   for await (const e of subscribe(node, ['hxo.shard.done'], { since: 0, signal })) ...
 */
import WebSocket from 'ws';
import { XynError } from '../core/errors.ts';
import type { XynEvent } from '../core/event.ts';
import type { NodeAddress } from './http.ts';

export interface SubscribeOptions {
  /** Deliver events after this seq (0: the whole log kept); without it, from now on. */
  since?: number;
  /** Ends the iteration (and the connection). */
  signal?: AbortSignal;
  /** Waits between reconnections: from `min` ms, doubling up to `max` (default 100, 5000). */
  retryMs?: { min: number; max: number };
}

/** Events the subscription had not had yet were trimmed by the node's retention. */
export class StreamTruncatedError extends XynError {
  constructor(readonly fromSeq: number, readonly toSeq: number, readonly oldestSeq: number) {
    super(`events ${fromSeq}..${toSeq} were trimmed by the node's retention before they were delivered; the oldest kept is ${oldestSeq}`, 'STREAM_TRUNCATED', { from_seq: fromSeq, to_seq: toSeq, oldest_seq: oldestSeq });
  }
}

/** The node refused the subscription or closed it for good (its error frame's code and message). */
export class StreamRefusedError extends XynError {
  constructor(readonly apiCode: string, message: string, readonly closeCode: number) {
    super(`the node's stream refused: ${apiCode}: ${message}`, 'STREAM_REFUSED', { api_code: apiCode, close_code: closeCode });
  }
}

/** Close codes after which connecting again cannot help: a bad request, a limit, a revoked token. */
const FINAL_CLOSES = new Set([1007, 1008, 1009, 4001]);
/** Events held for a consumer that is slower than the socket: past this, the socket pauses (the node waits; nothing is lost). */
const HIGH_WATER = 10_000;

type Frame =
  | { type: 'subscribed'; last_seq: number }
  | { type: 'event'; event: XynEvent }
  | { type: 'lagged' }
  | { type: 'truncated'; oldest_seq: number; from_seq: number; to_seq: number }
  | { type: 'error'; error: { code: string; message: string } };

export function subscribe(node: NodeAddress, topics: string[], options: SubscribeOptions = {}): AsyncIterableIterator<XynEvent> {
  return new EventStream(node, topics, options);
}

class EventStream implements AsyncIterableIterator<XynEvent> {
  /** Seq of the last event delivered (or of the log's tail when subscribed from now). */
  private position: number | undefined;
  private readonly queue: XynEvent[] = [];
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private ended = false;
  private ws: WebSocket | undefined;
  private paused = false;
  private attempts = 0;
  private lastRefusal: { code: string; message: string } | undefined;
  /** Subscribed again after a lag: the old subscription's events (past the gap) are not taken until the new one answers. */
  private resubscribing = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly retry: { min: number; max: number };

  constructor(
    private readonly node: NodeAddress,
    private readonly topics: string[],
    options: SubscribeOptions,
  ) {
    this.position = options.since;
    this.retry = options.retryMs ?? { min: 100, max: 5_000 };
    options.signal?.addEventListener('abort', () => void this.return(), { once: true });
    if (options.signal?.aborted) this.ended = true;
    else this.connect();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<XynEvent> {
    return this;
  }

  async next(): Promise<IteratorResult<XynEvent>> {
    for (;;) {
      const event = this.queue.shift();
      if (event) {
        if (this.paused && this.queue.length < HIGH_WATER / 2) {
          this.paused = false;
          this.ws?.resume();
        }
        return { value: event, done: false };
      }
      if (this.failure) throw this.failure;
      if (this.ended) return { value: undefined, done: true };
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  return(): Promise<IteratorResult<XynEvent>> {
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  private connect(): void {
    const url = `${this.node.url.replace(/^http/, 'ws')}/api/v1/stream`;
    const ws = new WebSocket(url, { headers: this.node.token ? { authorization: `Bearer ${this.node.token}` } : {} });
    this.ws = ws;
    this.paused = false;
    this.resubscribing = false;
    ws.on('open', () => this.subscribe());
    ws.on('message', (data) => this.received(JSON.parse(String(data)) as Frame));
    // A connection that fails also closes: 'close' decides what comes next.
    ws.on('error', () => {});
    ws.on('close', (code) => this.closed(ws, code));
  }

  private subscribe(): void {
    this.ws?.send(JSON.stringify({ op: 'subscribe', topics: this.topics, ...(this.position !== undefined ? { since: this.position } : {}) }));
  }

  private received(frame: Frame): void {
    switch (frame.type) {
      case 'subscribed':
        this.attempts = 0;
        this.resubscribing = false;
        this.position ??= frame.last_seq;
        return;
      case 'event':
        if (this.resubscribing) return;
        // A replay after a reconnection starts at `position`: what it repeats is dropped.
        if (this.position !== undefined && frame.event.seq <= this.position) return;
        this.position = frame.event.seq;
        this.push(frame.event);
        return;
      case 'lagged':
        // Live events were skipped: take them from the log instead, from the last one delivered.
        this.resubscribing = true;
        this.ws?.send(JSON.stringify({ op: 'unsubscribe', topics: this.topics }));
        this.subscribe();
        return;
      case 'truncated':
        return this.fail(new StreamTruncatedError(frame.from_seq, frame.to_seq, frame.oldest_seq));
      case 'error':
        this.lastRefusal = frame.error;
        return;
    }
  }

  private push(event: XynEvent): void {
    this.queue.push(event);
    if (!this.paused && this.queue.length >= HIGH_WATER) {
      this.paused = true;
      this.ws?.pause();
    }
    this.wakeReader();
  }

  private closed(ws: WebSocket, code: number): void {
    if (ws !== this.ws || this.ended) return;
    const refusal = this.lastRefusal;
    this.lastRefusal = undefined;
    if (FINAL_CLOSES.has(code)) return this.fail(new StreamRefusedError(refusal?.code ?? 'closed', refusal?.message ?? `closed with ${code}`, code));
    // Dropped, the node stopping or restarting, too many clients for now: again, a little later each time.
    const wait = Math.min(this.retry.max, this.retry.min * 2 ** this.attempts++);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  private fail(err: Error): void {
    this.failure = err;
    this.finish();
  }

  private finish(): void {
    this.ended = true;
    clearTimeout(this.timer);
    this.ws?.close();
    this.wakeReader();
  }

  private wakeReader(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
