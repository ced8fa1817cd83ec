/**
 * A request body read as it arrives on uWebSockets.js, for a route that
 * takes uploads of any size (an artifact's bytes): an async iterable of its
 * pieces, with backpressure — past HIGH_WATER bytes taken and not yet
 * consumed, uWS is told to stop reading the socket (`pause`), and to go on
 * once the consumer is down to LOW_WATER. So a slow consumer (a disk) costs
 * the server a few MiB, whatever the body's size.
 *
 * uWS reuses a piece's memory once its onData returns: each is copied.
 * Once the route answers (`release`), what is left of the body is not kept:
 * uWS reads it past, and the connection stays open, so the client reads the
 * answer (a 413 mid-upload) rather than a reset.
 *
 *   const body = new RequestStream(res);      // in the request's own tick
 *   for await (const piece of body) …         // throws when the client went away
 */
import type { HttpResponse } from 'uWebSockets.js';

const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;

export class RequestStream implements AsyncIterable<Uint8Array> {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private paused = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private released = false;

  constructor(private readonly res: HttpResponse) {
    res.onData((chunk, isLast) => {
      if (this.released) return;
      if (chunk.byteLength > 0) {
        const copy = Buffer.from(new Uint8Array(chunk));
        this.queue.push(copy);
        this.queued += copy.length;
        if (this.queued >= HIGH_WATER && !this.paused) {
          this.paused = true;
          res.pause();
        }
      }
      if (isLast) this.ended = true;
      this.notify();
    });
  }

  /** The route answers: the rest of the body is dropped as it comes (and uWS reads on, if it was paused). Before the answer is written. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.queue.length = 0;
    this.queued = 0;
    if (this.paused && !this.failure) this.res.resume();
    this.paused = false;
  }

  /** The client went away: the consumer's next read throws `reason`. */
  abort(reason: Error): void {
    this.failure = reason;
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.failure) throw this.failure;
      const next = this.queue.shift();
      if (next) {
        this.queued -= next.length;
        if (this.paused && this.queued <= LOW_WATER && !this.failure) {
          this.paused = false;
          this.res.resume();
        }
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
