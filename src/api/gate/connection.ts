/**
 * One client connection through the gate (gate.ts): its requests are read
 * head and body (request-head.ts, chunked.ts), judged, and written to the
 * app's uWS socket whole — or replaced by a refusal the app answers
 * (refusal.ts). What uWS sends back goes to the client as it comes.
 *
 * Invariants:
 * - uWS reads only heads it parses and bodies framed by one Content-Length;
 *   each request reaches it in one write (head and body together) — but for
 *   a streamed one (an artifact upload, HeadLimits.streamed): its head goes
 *   at once and its body as it arrives, a chunked body decoded strictly and
 *   framed anew. A streamed body that turns out wrong (malformed, cut short)
 *   cannot be refused any more: both connections are dropped, and the app
 *   sees its request aborted.
 * - Answers keep their order: the gate writes nothing of its own to the
 *   client but `100 Continue` and the de-chunking of HTTP/1.0 answers.
 * - After a refusal that leaves the framing unknown (a bad length, a head
 *   past the limits), the client's further bytes are dropped and uWS closes
 *   the connection after its answer (`Connection: close`).
 * - An upgrade (the WebSocket stream) is checked like any request; after it,
 *   bytes go both ways as they are.
 * - Backpressure both ways: a side that cannot take more pauses the other.
 * - uWS is told the connection ends (a FIN, on which it drops an answer in
 *   the making) only once every answer asked for went out (answers.ts).
 */
import type { Socket } from 'node:net';
import { AnswerReader } from './answers.ts';
import { ChunkedBody, ChunkedError } from './chunked.ts';
import type { RefusalCodec } from './refusal.ts';
import { parseRequestHead, serializeHead, type HeadLimits, type HeadRefusal, type RequestHead } from './request-head.ts';

export interface GateCounters {
  /** Client connections open now. */
  connections: number;
  /** Requests passed to the app. */
  forwarded: number;
  /** Requests refused by the gate (answered by the app as refusals). */
  refused: number;
}

/**
 * The counters in shared memory: the gate's thread counts, the app's
 * thread reads (gate-thread.ts). One writer; a reader sees each number whole.
 */
export function sharedCounters(memory: SharedArrayBuffer): GateCounters {
  const a = new Int32Array(memory);
  return {
    get connections() {
      return a[0] as number;
    },
    set connections(n) {
      a[0] = n;
    },
    get forwarded() {
      return a[1] as number;
    },
    set forwarded(n) {
      a[1] = n;
    },
    get refused() {
      return a[2] as number;
    },
    set refused(n) {
      a[2] = n;
    },
  };
}

export interface ConnectionOptions {
  limits: HeadLimits;
  /** Longest head read (request line and fields). */
  maxHeadBytes: number;
  /** How long a request may take to arrive once it began. */
  timeoutMs: number;
  refusals: RefusalCodec;
  connectApp(): Socket;
  counters: GateCounters;
}

const EMPTY: Buffer = Buffer.alloc(0);
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

export class GateConnection {
  private buf: Buffer = EMPTY;
  /** A head whose body is being read. */
  private pending: { head: RequestHead; raw: Buffer | undefined; chunked: ChunkedBody | undefined; streaming?: { left: number } } | undefined;
  private mode: 'http' | 'tunnel' | 'closing' = 'http';
  private app: Socket | undefined;
  /** Where each answer ends: a client that ended its side is closed after its last one. */
  private readonly answers = new AnswerReader(
    (b) => this.toClient(b),
    () => this.maybeFinish(),
  );
  private stopping = false;
  private clientDone = false;

  constructor(
    private readonly client: Socket,
    private readonly o: ConnectionOptions,
  ) {
    o.counters.connections++;
    client.setNoDelay(true);
    client.setTimeout(o.timeoutMs);
    client.on('data', (b: Buffer) => this.received(b));
    client.on('end', () => this.clientEnded());
    client.on('timeout', () => this.timedOut());
    client.on('drain', () => this.app?.resume());
    client.on('error', () => client.destroy());
    client.on('close', () => {
      o.counters.connections--;
      this.app?.destroy();
    });
  }

  private received(chunk: Buffer): void {
    if (this.mode === 'tunnel') {
      if (!this.toApp().write(chunk)) this.client.pause();
      return;
    }
    if (this.mode === 'closing') return;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.mode === 'http' && this.buf.length > 0 && (this.pending ? this.readBody() : this.readHead()));
  }

  /** Reads one head if it is all there; false when more bytes are needed. */
  private readHead(): boolean {
    // A server ignores empty lines before a request line (RFC 9112 §2.2).
    let start = 0;
    while (this.buf[start] === 13 || this.buf[start] === 10) start++;
    if (start === this.buf.length) {
      this.buf = EMPTY;
      return false;
    }
    const crlf = this.buf.indexOf('\r\n\r\n', start);
    const lf = this.buf.indexOf('\n\n', start);
    // A head whose lines end in bare LFs ends at LF LF: found, so that it is refused, not waited on.
    const [end, sep] = lf >= 0 && (crlf < 0 || lf < crlf) ? [lf, 2] : [crlf, 4];
    if (end < 0 || end - start > this.o.maxHeadBytes) {
      if (this.buf.length - start <= this.o.maxHeadBytes) return false;
      this.refuse(refusalOf(undefined, 431, 'header_fields_too_large', `the request head is over ${this.o.maxHeadBytes} bytes`));
      return false;
    }
    const parsed = parseRequestHead(this.buf.toString('latin1', start, end), this.o.limits);
    const raw = this.buf.subarray(start, end + sep);
    this.buf = this.buf.subarray(end + sep);
    if ('refusal' in parsed) {
      this.refuse(parsed);
      return true;
    }
    if (parsed.upgrade) {
      this.forward(parsed, raw, undefined);
      this.mode = 'tunnel';
      const rest = this.buf;
      this.buf = EMPTY;
      if (rest.length > 0) this.received(rest);
      return false;
    }
    if (parsed.length === 0) {
      this.forward(parsed, parsed.rewrite ? undefined : raw, undefined);
      return true;
    }
    // The client waits for this before it sends the body; the gate reads the body before uWS sees the head.
    if (parsed.expectContinue && this.buf.length === 0) this.client.write(CONTINUE);
    if (parsed.streamed) {
      this.startStream(parsed, raw);
      return true;
    }
    this.pending = { head: parsed, raw: parsed.rewrite ? undefined : raw, chunked: parsed.chunked ? new ChunkedBody(this.o.limits.maxBodyBytes) : undefined };
    return true;
  }

  /** A streamed request: its head goes to the app now, its body as it comes (readStreamed). */
  private startStream(head: RequestHead, raw: Buffer): void {
    const limit = this.o.limits.streamed?.maxBodyBytes ?? this.o.limits.maxBodyBytes;
    this.forward(head, head.rewrite || head.chunked ? Buffer.from(serializeHead(head, head.chunked ? 'chunked' : (head.length as number)), 'latin1') : raw, undefined);
    const chunked = head.chunked ? new ChunkedBody(limit, (data) => this.frameToApp(data)) : undefined;
    this.pending = { head, raw: undefined, chunked, streaming: { left: head.length ?? 0 } };
  }

  /** A decoded piece of a streamed chunked body, as one chunk to the app. */
  private frameToApp(data: Buffer): void {
    const app = this.toApp();
    app.cork();
    app.write(`${data.length.toString(16)}\r\n`);
    app.write(data);
    app.write('\r\n');
    app.uncork();
    if (app.writableNeedDrain) this.client.pause();
  }

  /** Passes on what has come of a streamed body; true once it ended. */
  private readStreamed(head: RequestHead, streaming: { left: number }, chunked: ChunkedBody | undefined): boolean {
    const app = this.toApp();
    let ended: boolean;
    if (!chunked) {
      const n = Math.min(streaming.left, this.buf.length);
      app.write(this.buf.subarray(0, n));
      streaming.left -= n;
      this.buf = this.buf.subarray(n);
      ended = streaming.left === 0;
    } else {
      let taken: number;
      try {
        taken = chunked.push(this.buf);
      } catch {
        // Already the app's: there is no refusing it now. The app is told it ends (an answer it gave still goes out).
        this.cutStream();
        return false;
      }
      ended = taken >= 0;
      this.buf = ended ? this.buf.subarray(taken) : EMPTY;
      if (ended) app.write('0\r\n\r\n');
    }
    if (app.writableNeedDrain) this.client.pause();
    if (!ended) return false;
    this.pending = undefined;
    if (head.close) this.mode = 'closing';
    return true;
  }

  /**
   * A streamed request gone wrong after it was passed on (malformed, past
   * the limit, cut short, stalled): the rest of the client's bytes are
   * dropped and the app's connection ends — it sees the request aborted,
   * unless it already answered, and that answer still reaches the client.
   */
  private cutStream(): void {
    this.mode = 'closing';
    this.pending = undefined;
    this.buf = EMPTY;
    this.app?.end();
  }

  /** Reads the pending request's body if it is all there; false when more bytes are needed. */
  private readBody(): boolean {
    const { head, raw, chunked, streaming } = this.pending as NonNullable<typeof this.pending>;
    if (streaming) return this.readStreamed(head, streaming, chunked);
    if (!chunked) {
      const length = head.length as number;
      if (this.buf.length < length) return false;
      const body = this.buf.subarray(0, length);
      this.buf = this.buf.subarray(length);
      this.pending = undefined;
      this.forward(head, raw, body);
      return true;
    }
    let taken: number;
    try {
      taken = chunked.push(this.buf);
    } catch (err) {
      const large = err instanceof ChunkedError && err.tooLarge;
      this.refuse(refusalOf(head, large ? 413 : 400, large ? 'payload_too_large' : 'bad_request', `the chunked body is malformed: ${(err as Error).message}`));
      return false;
    }
    if (taken < 0) {
      this.buf = EMPTY;
      return false;
    }
    this.buf = this.buf.subarray(taken);
    this.pending = undefined;
    this.forward(head, undefined, chunked.data());
    return true;
  }

  /** Writes a request to the app in one go: its head as it came (`raw`) or written anew, and its body. */
  private forward(head: RequestHead, raw: Buffer | undefined, body: Buffer | undefined): void {
    this.o.counters.forwarded++;
    const app = this.toApp();
    this.answers.ask({ head: head.method === 'HEAD', http10: head.version === 10 });
    app.cork();
    app.write(raw ?? serializeHead(head, body?.length ?? 0));
    if (body && body.length > 0) app.write(body);
    app.uncork();
    if (app.writableNeedDrain) this.client.pause();
    // uWS closes after its answer; what the client sends after is not read (a streamed body is, first).
    if (head.close && !head.streamed) this.mode = 'closing';
  }

  private refuse(refusal: HeadRefusal): void {
    this.o.counters.refused++;
    this.pending = undefined;
    const app = this.toApp();
    this.answers.ask({ head: refusal.method === 'HEAD', http10: false });
    app.write(this.o.refusals.request(refusal));
    if (refusal.close) {
      this.mode = 'closing';
      this.buf = EMPTY;
    }
  }

  /** The client half-closed: a request it left unfinished can never finish; say so. */
  private clientEnded(): void {
    this.clientDone = true;
    if (this.pending?.streaming) return this.cutStream();
    if (this.mode === 'http' && (this.pending || this.buf.some((b) => b !== 13 && b !== 10))) {
      const what = this.pending ? `its body ended early (${this.pending.chunked ? 'the chunked body has no last chunk' : `${this.buf.length} of ${this.pending.head.length} bytes`})` : 'its head ended before the blank line that ends a head';
      this.refuse(refusalOf(this.pending?.head, 400, 'bad_request', `the request is incomplete: ${what}`));
    }
    this.maybeFinish();
  }

  /**
   * Once the client has ended its side and every answer it asked for went
   * out, the connection ends (uWS aborts an answer still in the making when
   * told the connection ends: only now is it told).
   */
  private maybeFinish(): void {
    if (!this.clientDone || this.answers.pending > 0 || this.mode === 'tunnel') return;
    this.client.end();
    this.app?.end();
  }

  private timedOut(): void {
    if (this.pending?.streaming) {
      this.cutStream();
    } else if (this.mode === 'http' && (this.pending || this.buf.length > 0)) {
      this.refuse(refusalOf(this.pending?.head, 408, 'request_timeout', `the request did not arrive within ${this.o.timeoutMs / 1000} s`));
    } else if (!this.app) {
      // Connected and silent: uWS would close it after its idle timeout too.
      this.client.destroy();
    }
  }

  /**
   * The node stops: uWS is told the connection ends (it closes at once,
   * after what it already wrote: a stream's closing frame), and the client's
   * socket ends once that is passed on.
   */
  shutdown(): void {
    this.stopping = true;
    if (this.app) this.app.end();
    else this.client.destroy();
  }

  private toApp(): Socket {
    if (this.app) return this.app;
    const app = this.o.connectApp();
    app.on('data', (b: Buffer) => {
      try {
        this.answers.push(b);
      } catch {
        // Framing the gate cannot read from uWS: the answer cannot be passed on whole.
        this.client.destroy();
      }
    });
    app.on('drain', () => this.client.resume());
    app.on('end', () => {
      // The app answered before a streamed body ended (a limit passed): the rest of it is not read.
      if (this.pending?.streaming) {
        this.mode = 'closing';
        this.pending = undefined;
        this.buf = EMPTY;
      }
      this.client.end();
    });
    app.on('error', () => this.client.destroy());
    app.on('close', () => {
      if (this.stopping) this.client.destroySoon();
      else if (!this.client.destroyed) this.client.end();
    });
    this.app = app;
    return app;
  }

  private toClient(bytes: Buffer): void {
    if (!this.client.write(bytes)) this.app?.pause();
  }
}

function refusalOf(head: RequestHead | undefined, status: number, code: string, message: string): HeadRefusal {
  return { refusal: true, status, code, message, close: true, method: head?.method ?? 'GET', path: head ? (head.target.split('?')[0] as string).slice(0, 200) : '/', correlationId: head?.correlationId ?? '' };
}
