/**
 * Bytes of a known length written as a response on uWebSockets.js, piece
 * after piece, with a Content-Length (uWS's `tryEnd`): a download of any
 * size costs the server the piece being written. When the socket takes only
 * part of a piece, the rest is written from `onWritable`, at the offset uWS
 * reports — nothing is taken from the source until the piece is all out.
 *
 * A source that fails before its first piece throws (the caller answers an
 * error: nothing was written); one that fails later has its connection
 * closed, so the client sees a body shorter than its Content-Length.
 */
import type { HttpResponse } from 'uWebSockets.js';

export interface BytesSink {
  res: HttpResponse;
  /** Writes the status line and headers (once, corked, before the first piece). */
  head(): void;
  /** True once the client went away. */
  gone(): boolean;
  /** Called when the client goes away while a piece waits on the socket. */
  onGone(wake: () => void): void;
}

/** Writes `pieces` (`length` bytes in all) as the body; true when all of it went out. */
export async function pumpBytes(pieces: AsyncIterable<Uint8Array>, length: number, sink: BytesSink): Promise<boolean> {
  const { res } = sink;
  let started = false;
  const start = (): void => {
    if (!started) sink.head();
    started = true;
  };
  try {
    for await (const piece of pieces) {
      if (sink.gone()) return false;
      const before = res.getWriteOffset();
      let sent: [boolean, boolean] = [false, false];
      res.cork(() => {
        start();
        sent = res.tryEnd(piece, length);
      });
      if (sent[1]) return true;
      if (!sent[0] && !(await drain(sink, piece, before, length))) return false;
    }
  } catch (err) {
    if (started && !sink.gone()) res.close();
    throw err;
  }
  if (sink.gone()) return false;
  // An empty body (or a source shorter than it said: the connection is closed so the client sees it cut).
  res.cork(() => {
    if (!started) {
      start();
      res.end();
    } else res.close();
  });
  return length === 0;
}

/** Waits until the socket took the rest of `piece` (written from `before`); false if the client went away. */
function drain(sink: BytesSink, piece: Uint8Array, before: number, length: number): Promise<boolean> {
  return new Promise((resolve) => {
    sink.onGone(() => resolve(false));
    sink.res.onWritable((offset) => {
      const [ok, done] = sink.res.tryEnd(piece.subarray(offset - before), length);
      if (ok || done) resolve(true);
      return ok;
    });
  });
}
