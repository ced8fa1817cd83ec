/**
 * An actor's mailbox: the messages not yet handed to an incarnation.
 *
 * Invariants:
 * - FIFO: messages leave in the order they arrived (so order per sender holds).
 * - Every `ask` settles exactly once: with the reply, the handler's error, a
 *   timeout, or ActorStoppedError when the actor stops for good.
 * - The mailbox outlives incarnations: a restart picks up where the crash left.
 */
import { ActorTimeoutError } from './actor.ts';

export interface Reply<R> {
  resolve(value: R): void;
  reject(error: unknown): void;
}

export interface Envelope<M, R> {
  /** Position in the actor's message stream, unique per actor. */
  readonly n: number;
  readonly message: M;
  readonly reply?: Reply<R>;
}

export class Mailbox<M, R> {
  private queue: Envelope<M, R>[] = [];
  private head = 0;
  private counter = 0;

  constructor(private readonly actorId: string) {}

  get size(): number {
    return this.queue.length - this.head;
  }

  /** Adds a message; for an ask, returns the promise of its reply. */
  post(message: M): Envelope<M, R>;
  post(message: M, timeoutMs: number): { envelope: Envelope<M, R>; replied: Promise<R> };
  post(message: M, timeoutMs?: number): Envelope<M, R> | { envelope: Envelope<M, R>; replied: Promise<R> } {
    const n = ++this.counter;
    if (timeoutMs === undefined) {
      const envelope = { n, message };
      this.queue.push(envelope);
      return envelope;
    }
    let envelope!: Envelope<M, R>;
    const replied = new Promise<R>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => settle(() => reject(new ActorTimeoutError(this.actorId, timeoutMs))), timeoutMs);
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      envelope = {
        n,
        message,
        reply: { resolve: (v) => settle(() => resolve(v)), reject: (e) => settle(() => reject(e)) },
      };
    });
    this.queue.push(envelope);
    return { envelope, replied };
  }

  take(): Envelope<M, R> | undefined {
    if (this.head >= this.queue.length) return undefined;
    const envelope = this.queue[this.head] as Envelope<M, R>;
    this.queue[this.head++] = undefined as unknown as Envelope<M, R>;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    return envelope;
  }

  /** Puts envelopes back at the front, in their order (redelivery after a crash). */
  requeue(envelopes: Envelope<M, R>[]): void {
    if (envelopes.length === 0) return;
    this.queue = [...envelopes, ...this.queue.slice(this.head)];
    this.head = 0;
  }

  /** Settles every waiting ask with `error` and empties the mailbox. */
  rejectAll(error: Error): void {
    for (let e = this.take(); e; e = this.take()) e.reply?.reject(error);
  }
}
