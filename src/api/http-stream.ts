/**
 * Streamed HTTP bodies on uWebSockets.js (chunked transfer encoding), for
 * answers too big to hold: a million outputs as NDJSON.
 *
 * A chunk is taken from its source only once the socket took the previous
 * one. uWS's `res.write` never drops data: what the socket does not take at
 * once it keeps, and says so by returning false; then nothing more is taken
 * until uWS calls `onWritable` (drained) — or the client goes away. So a slow
 * client costs the server one chunk, whatever the body's size. Between chunks
 * the event loop gets a turn, so a fast client does not starve other
 * requests. Writes are corked (uWS needs it outside the request's own tick).
 *
 * The numbers (open streams, streams waiting on their client, bytes written,
 * streams completed or cut short) are the server's backpressure, as counters.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { HttpResponse } from 'uWebSockets.js';

export interface StreamCounters {
  /** Streams being written now. */
  open: number;
  /** Of those, waiting for their client to take what was written. */
  waiting: number;
  /** Body bytes written into streams, in all. */
  bytes: number;
  /** Streams written to their end. */
  completed: number;
  /** Streams cut short: the client went away, or the source failed midway. */
  cut: number;
}

export function streamCounters(): StreamCounters {
  return { open: 0, waiting: 0, bytes: 0, completed: 0, cut: 0 };
}

export interface StreamSink {
  res: HttpResponse;
  /** Writes the status line and headers (called once, corked, right before the first chunk). */
  head(): void;
  /** True once the client went away. */
  gone(): boolean;
  /** Resolves when the socket drained (onWritable), or when the client went away. */
  drained(): Promise<void>;
}

/**
 * Writes `chunks` as the body and ends it; true when all of it was written.
 * A source that fails before its first chunk throws (nothing was written:
 * the caller answers with an error); one that fails later has its
 * connection closed, so the client sees a cut body, never a short one that
 * looks complete — and the error is thrown too, to be logged.
 */
export async function pumpChunks(chunks: Iterable<string> | AsyncIterable<string>, sink: StreamSink, counters: StreamCounters): Promise<boolean> {
  const source = Symbol.asyncIterator in chunks ? chunks[Symbol.asyncIterator]() : chunks[Symbol.iterator]();
  const { res } = sink;
  let started = false;
  counters.open++;
  try {
    for (;;) {
      if (sink.gone()) break;
      let next: IteratorResult<string>;
      try {
        next = await source.next();
      } catch (err) {
        if (started) {
          counters.cut++;
          if (!sink.gone()) res.close();
        }
        throw err;
      }
      if (sink.gone()) break;
      const first = !started;
      started = true;
      if (next.done) {
        res.cork(() => {
          if (first) sink.head();
          res.end();
        });
        counters.completed++;
        return true;
      }
      const chunk = next.value;
      let took = true;
      res.cork(() => {
        if (first) sink.head();
        took = res.write(chunk);
      });
      counters.bytes += Buffer.byteLength(chunk);
      if (took) {
        await nextTurn();
        continue;
      }
      counters.waiting++;
      try {
        await sink.drained();
      } finally {
        counters.waiting--;
      }
    }
    counters.cut++;
    await source.return?.();
    return false;
  } finally {
    counters.open--;
  }
}
