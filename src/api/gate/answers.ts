/**
 * The app's answers as they pass through the gate to the client, read just
 * enough to know where each one ends (RFC 9112 §6: no body for HEAD, 1xx,
 * 204 and 304; else Content-Length or chunked). The gate needs that for two
 * things: a client that has ended its side is closed once its last answer
 * has gone out — not 10 s later, when uWS's idle timeout would close it —
 * and the answer to an HTTP/1.0 request, which cannot be chunked, is passed
 * on de-chunked, its end marked by the connection's end.
 *
 * Bytes go on as they came (one write per read) except for that de-chunking.
 * A `101 Switching Protocols` ends the reading: what follows is the upgraded
 * protocol's.
 */
import { ChunkedBody } from './chunked.ts';

/** What the gate asked, in order: the answers come back in the same order. */
export interface Asked {
  head: boolean;
  http10: boolean;
}

/** Data read only for its framing (HTTP/1.1 gets the bytes as they came). */
const skip = (): void => {};

type State = { at: 'head' } | { at: 'length'; left: number } | { at: 'chunked'; body: ChunkedBody } | { at: 'tunnel' };

export class AnswerReader {
  private readonly asked: Asked[] = [];
  private state: State = { at: 'head' };
  private head = Buffer.alloc(0);

  /** `out`: bytes for the client; `answered`: one more answer went out whole. */
  constructor(
    private readonly out: (bytes: Buffer) => void,
    private readonly answered: () => void,
  ) {}

  /** A request went to the app. */
  ask(asked: Asked): void {
    this.asked.push(asked);
  }

  /** Answers still to come. */
  get pending(): number {
    return this.asked.length;
  }

  push(bytes: Buffer): void {
    let at = 0;
    while (at < bytes.length) {
      const state = this.state;
      if (state.at === 'tunnel') {
        this.out(at === 0 ? bytes : bytes.subarray(at));
        return;
      }
      if (state.at === 'length') {
        const n = Math.min(state.left, bytes.length - at);
        // The common case, a whole answer in one read, goes out as the one buffer it came in.
        if (at === 0 && n === bytes.length) this.out(bytes);
        else this.out(bytes.subarray(at, at + n));
        at += n;
        state.left -= n;
        if (state.left === 0) this.done();
        continue;
      }
      if (state.at === 'chunked') {
        const http10 = this.asked[0]?.http10 ?? false;
        const taken = state.body.push(at === 0 ? bytes : bytes.subarray(at));
        const end = taken < 0 ? bytes.length : at + taken;
        // HTTP/1.1 gets the framing as it is; HTTP/1.0 got the data through the body's sink.
        if (!http10) this.out(bytes.subarray(at, end));
        at = end;
        if (taken >= 0) this.done();
        continue;
      }
      at = this.readHead(bytes, at);
    }
  }

  /** Reads (part of) an answer's head from `bytes` at `at`; where reading goes on. */
  private readHead(bytes: Buffer, at: number): number {
    const from = this.head.length === 0 ? bytes.subarray(at) : Buffer.concat([this.head, bytes.subarray(at)]);
    const end = from.indexOf('\r\n\r\n');
    if (end < 0) {
      this.head = Buffer.from(from);
      return bytes.length;
    }
    const consumed = end + 4 - this.head.length;
    this.head = Buffer.alloc(0);
    const text = from.toString('latin1', 0, end);
    const status = Number(text.slice(9, 12));
    const asked = this.asked[0] ?? { head: false, http10: false };
    const chunked = /\r\ntransfer-encoding: *chunked/i.test(text);
    if (status === 101) {
      this.out(from.subarray(0, end + 4));
      this.state = { at: 'tunnel' };
      this.done();
      return at + consumed;
    }
    if (asked.http10 && chunked) {
      this.out(Buffer.from(text.replace(/\r\ntransfer-encoding: *chunked(?=\r\n|$)/i, '') + '\r\n\r\n', 'latin1'));
    } else {
      this.out(from.subarray(0, end + 4));
    }
    if (status < 200) return at + consumed;
    const length = /\r\ncontent-length: *(\d+)/i.exec(text);
    if (asked.head || status === 204 || status === 304 || (!chunked && (!length || length[1] === '0'))) this.done();
    else if (chunked) this.state = { at: 'chunked', body: new ChunkedBody(Number.MAX_SAFE_INTEGER, asked.http10 ? this.out : skip) };
    else this.state = { at: 'length', left: Number(length?.[1]) };
    return at + consumed;
  }

  private done(): void {
    if (this.state.at !== 'tunnel') this.state = { at: 'head' };
    this.asked.shift();
    this.answered();
  }
}
