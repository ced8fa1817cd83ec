/**
 * A chunked body (RFC 9112 §7.1) read as its bytes arrive, strictly: chunk
 * sizes in hex, extensions skipped, each chunk's data followed by CRLF,
 * then a zero-size chunk, trailer fields (read and dropped) and the blank
 * line. The gate decodes request bodies with it before forwarding them with
 * a Content-Length (request-head.ts), so uWS never reads chunked framing;
 * and the answers to HTTP/1.0 requests, which cannot be chunked.
 *
 *   const body = new ChunkedBody(1024);
 *   body.push(Buffer.from('3\r\nabc\r\n0\r\n\r\n'));   // → 13: bytes taken, the body ended there
 *   body.data();                                       // Buffer 'abc'
 */

/** Something wrong in the framing, or the body over its limit (`tooLarge`). */
export class ChunkedError extends Error {
  constructor(
    message: string,
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

type State = 'size' | 'data' | 'data-end' | 'trailer' | 'done';

/** Longest size line or trailer line read (a hex size, extensions): past it the framing is wrong. */
const MAX_LINE = 4096;

export class ChunkedBody {
  private state: State = 'size';
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private left = 0;
  private line = '';
  private trailerLines = 0;

  /** `sink`: where data goes as it is read (a response passed on); without one it is kept for `data()`. */
  constructor(
    private readonly limit: number,
    private readonly sink?: (data: Buffer) => void,
  ) {}

  /** Takes bytes; the number taken when the body ended within them, else -1 (all taken, more needed). */
  push(bytes: Buffer): number {
    let at = 0;
    while (at < bytes.length) {
      if (this.state === 'data') {
        const n = Math.min(this.left, bytes.length - at);
        if (this.sink) this.sink(bytes.subarray(at, at + n));
        else this.chunks.push(bytes.subarray(at, at + n));
        this.left -= n;
        at += n;
        if (this.left === 0) this.state = 'data-end';
        continue;
      }
      const nl = bytes.indexOf(10, at);
      const end = nl < 0 ? bytes.length : nl + 1;
      this.line += bytes.toString('latin1', at, end);
      at = end;
      if (this.line.length > MAX_LINE) throw new ChunkedError('a chunk size or trailer line is too long');
      if (nl < 0) break;
      if (!this.line.endsWith('\r\n')) throw new ChunkedError('a chunk line ends in a bare LF: lines end in CRLF');
      const line = this.line.slice(0, -2);
      this.line = '';
      if (this.lineDone(line)) return at;
    }
    return -1;
  }

  /** The body's bytes (once push returned where it ended). */
  data(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** One CRLF-ended line in the current state; true when it ended the body. */
  private lineDone(line: string): boolean {
    switch (this.state) {
      case 'size': {
        const size = /^([0-9A-Fa-f]{1,8})(?:[ \t]*;.*)?$/.exec(line);
        if (!size) throw new ChunkedError(`${JSON.stringify(line.slice(0, 40))} is not a chunk size (hex digits)`);
        const n = parseInt(size[1] as string, 16);
        this.size += n;
        if (this.size > this.limit) throw new ChunkedError(`the body is over the limit of ${this.limit} bytes`, true);
        this.left = n;
        this.state = n === 0 ? 'trailer' : 'data';
        return false;
      }
      case 'data-end':
        if (line !== '') throw new ChunkedError('a chunk has more data than its size says');
        this.state = 'size';
        return false;
      case 'trailer':
        if (line === '') {
          this.state = 'done';
          return true;
        }
        if (++this.trailerLines > 32) throw new ChunkedError('too many trailer fields');
        return false;
      default:
        throw new ChunkedError('bytes after the end of the body');
    }
  }
}
