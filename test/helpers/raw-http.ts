/**
 * HTTP/1.x over a raw TCP socket, for what no HTTP client sends: the bytes
 * are written as given, and the answers are read as they come (by
 * Content-Length, chunked framing, or the connection's end). The API suites
 * and the fuzz bench (bench/fuzz.ts) use it.
 *
 *   const { answers, closed } = await exchange(port, 'GET / HTTP/1.0\r\n\r\n');
 */
import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  /** Lowercased names; a repeated field's values joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** Interim (1xx) answers before this one. */
  interim: number[];
}

export interface Exchange {
  answers: RawAnswer[];
  /** The server closed the connection (before `timeoutMs`). */
  closed: boolean;
  /** Bytes after the last whole answer (a cut-off one). */
  rest: Buffer;
  /** The socket's error (ECONNRESET, EADDRNOTAVAIL …), if it had one. */
  error?: string;
}

export interface ExchangeOptions {
  /** Resolve once this many answers are in (else: when the server closes). */
  answers?: number;
  /** Give up then (resolves with what came): a bound, not a pace. */
  timeoutMs?: number;
  /** HEAD requests, in order: their answers have no body. */
  head?: boolean[];
  /** Half-close after writing. */
  end?: boolean;
}

/** Writes `request` (all at once, or each piece in turn) and reads the answers. */
export function exchange(port: number, request: string | Buffer | (string | Buffer)[], options: ExchangeOptions = {}): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let done = false;
    let error: string | undefined;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ ...readAnswers(received, options.head ?? [], closed), closed, ...(error ? { error } : {}) });
    };
    AbortSignal.timeout(options.timeoutMs ?? 5_000).addEventListener('abort', () => finish(false), { once: true });
    socket.on('data', (b: Buffer) => {
      received = Buffer.concat([received, b]);
      if (options.answers !== undefined && readAnswers(received, options.head ?? [], false).answers.length >= options.answers) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
      finish(true);
    });
    for (const piece of Array.isArray(request) ? request : [request]) socket.write(piece);
    if (options.end) socket.end();
  });
}

/** The whole answers in `bytes`; with `closed`, a body without a length runs to the end. */
export function readAnswers(bytes: Buffer, head: boolean[], closed: boolean): { answers: RawAnswer[]; rest: Buffer } {
  const answers: RawAnswer[] = [];
  let at = 0;
  let interim: number[] = [];
  for (;;) {
    const end = bytes.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const lines = bytes.toString('latin1', at, end).split('\r\n');
    const status = Number((lines[0] ?? '').split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] !== undefined ? `${headers[name]}, ${value}` : value;
    }
    let bodyStart = end + 4;
    if (status >= 100 && status < 200) {
      interim.push(status);
      at = bodyStart;
      continue;
    }
    let body: Buffer;
    if (head[answers.length] || status === 204 || status === 304) body = Buffer.alloc(0);
    else if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const chunks: Buffer[] = [];
      let p = bodyStart;
      let complete = false;
      for (;;) {
        const nl = bytes.indexOf('\r\n', p);
        if (nl < 0) break;
        const size = parseInt(bytes.toString('latin1', p, nl), 16);
        if (size === 0) {
          if (bytes.length < nl + 4) break;
          p = nl + 4;
          complete = true;
          break;
        }
        if (bytes.length < nl + 2 + size + 2) break;
        chunks.push(bytes.subarray(nl + 2, nl + 2 + size));
        p = nl + 2 + size + 2;
      }
      if (!complete) break;
      body = Buffer.concat(chunks);
      bodyStart = p;
      answers.push({ status, headers, body, interim });
      interim = [];
      at = bodyStart;
      continue;
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (bytes.length < bodyStart + length) break;
      body = bytes.subarray(bodyStart, bodyStart + length);
      bodyStart += length;
    } else {
      // Neither: the body runs to the connection's end (an HTTP/1.0 answer).
      if (!closed) break;
      body = bytes.subarray(bodyStart);
      bodyStart = bytes.length;
    }
    answers.push({ status, headers, body, interim });
    interim = [];
    at = bodyStart;
  }
  return { answers, rest: bytes.subarray(at) };
}
