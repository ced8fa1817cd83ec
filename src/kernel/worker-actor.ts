/**
 * An actor whose logic runs in a worker thread of its own.
 *
 * The module at `module` exports a factory (`export` names it, default
 * "default") with the same shape as a LocalActor's. Callers use the same
 * `send`/`ask`; messages travel in msgpack batches (see BatchingPort).
 *
 * Invariants:
 * - Every message handed to the thread stays *in flight* until the thread
 *   acknowledges it. If the thread dies (exit, uncaught error, terminate),
 *   the in-flight messages go back to the front of the mailbox, in order, and
 *   the next incarnation receives them: a batch in flight is never lost.
 * - If the handler throws, that message is answered with the error (not
 *   redelivered: it would throw again) and the incarnation has crashed.
 */
import { Worker } from 'node:worker_threads';
import {
  ActorStoppedError,
  WorkerExitError,
  type ActorInfo,
  type ActorRef,
  type AskOptions,
  type KernelNotice,
  type Supervisable,
} from './actor.ts';
import { deserializeError } from '../core/errors.ts';
import { Mailbox, type Envelope } from './mailbox.ts';
import { BatchingPort } from './transport.ts';
import type { ActorHostData, FromHost, ToHost } from './thread-protocol.ts';
import { workerEntry } from './worker-entry.ts';
import { DEFAULT_ASK_TIMEOUT_MS } from './local-actor.ts';

export interface WorkerActorOptions {
  /** Absolute path or file URL of the module exporting the actor's factory. */
  module: string | URL;
  /** Name of the factory export (default "default"). */
  export?: string;
  /** Passed to the module as `workerData.args` (msgpack-able). */
  args?: unknown;
  notice?: KernelNotice;
  /** How long a starting thread may take to report ready (default 10 s). */
  startTimeoutMs?: number;
}

type Status = 'new' | 'starting' | 'running' | 'halted' | 'crashed' | 'stopped';

interface Incarnation {
  worker: Worker;
  port: BatchingPort<ToHost, FromHost>;
  ready: { resolve: () => void; reject: (e: Error) => void };
  stopped?: () => void;
}

export class WorkerActor<M = unknown, R = unknown> implements ActorRef<M, R>, Supervisable {
  private readonly mailbox: Mailbox<M, R>;
  private readonly inflight = new Map<number, Envelope<M, R>>();
  private status: Status = 'new';
  private current: Incarnation | undefined;
  private incarnation = 0;
  private readonly crashListeners: ((error: Error) => void)[] = [];
  private readonly notice: KernelNotice;
  /** For info(): messages the thread answered (a reply or a crash), when this incarnation started. */
  private handled = 0;
  private startedAt: number | null = null;

  constructor(
    readonly id: string,
    private readonly options: WorkerActorOptions,
  ) {
    this.mailbox = new Mailbox(id);
    this.notice = options.notice ?? (() => {});
  }

  send(message: M): void {
    this.assertOpen();
    this.mailbox.post(message);
    this.pump();
  }

  ask(message: M, options: AskOptions = {}): Promise<R> {
    this.assertOpen();
    const { replied } = this.mailbox.post(message, options.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS);
    this.pump();
    return replied;
  }

  /** The thread id of the current incarnation (for tests and diagnostics). */
  get threadId(): number | undefined {
    return this.current?.worker.threadId;
  }

  get inFlight(): number {
    return this.inflight.size;
  }

  /**
   * Kills the current thread as a crash would (chaos testing, operators
   * unsticking a wedged thread). The supervisor sees an ordinary crash.
   */
  async killThread(): Promise<void> {
    await this.current?.worker.terminate();
  }

  async start(): Promise<void> {
    if (this.status === 'stopped') throw new ActorStoppedError(this.id, 'stopped for good; it cannot be restarted');
    if (this.status === 'running' || this.status === 'starting') return;
    this.status = 'starting';
    this.incarnation++;
    // Messages the dead incarnation held go first, in their original order.
    this.mailbox.requeue([...this.inflight.values()]);
    this.inflight.clear();
    const entry = workerEntry('actor-host');
    const data: ActorHostData = {
      actor: this.id,
      incarnation: this.incarnation,
      module: this.options.module.toString(),
      export: this.options.export ?? 'default',
      args: this.options.args ?? null,
    };
    const worker = new Worker(entry.filename, { workerData: { ...data, ...entry.workerData } });
    const ready = new Promise<void>((resolve, reject) => {
      const inc: Incarnation = {
        worker,
        port: new BatchingPort<ToHost, FromHost>(worker, (items) => this.onReplies(inc, items)),
        ready: { resolve, reject },
      };
      this.current = inc;
      worker.on('error', (err) => this.onThreadDeath(inc, null, err.message));
      worker.on('exit', (code) => this.onThreadDeath(inc, code, `exited with code ${code}`));
    });
    const timeoutMs = this.options.startTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WorkerExitError(this.id, null, `not ready within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([ready, timeout]);
    } catch (err) {
      this.status = 'crashed';
      this.current = undefined;
      await worker.terminate();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    this.status = 'running';
    this.startedAt = Date.now();
    this.notice('xyn.kernel.actor.started', {
      actor: this.id,
      incarnation: this.incarnation,
      thread: 'worker',
      thread_id: worker.threadId,
    });
    this.pump();
  }

  /**
   * Ends the thread but keeps the mailbox and what was in flight for the next
   * incarnation (delivery is at least once: a message the thread handled but
   * had not yet acknowledged is handled again).
   */
  async halt(): Promise<void> {
    const inc = this.current;
    if (this.status !== 'running' || !inc) return;
    this.status = 'halted';
    this.current = undefined;
    await inc.worker.terminate();
    this.notice('xyn.kernel.actor.stopped', { actor: this.id, incarnation: this.incarnation, reason: 'halted' });
  }

  async stop(): Promise<void> {
    if (this.status === 'stopped') return;
    this.status = 'stopped';
    const inc = this.current;
    this.current = undefined;
    const error = new ActorStoppedError(this.id, 'stopped');
    for (const envelope of this.inflight.values()) envelope.reply?.reject(error);
    this.inflight.clear();
    this.mailbox.rejectAll(error);
    if (inc) {
      // Let the logic run its stop hook, but never wait on a stuck thread for long.
      const stopped = new Promise<void>((resolve) => (inc.stopped = resolve));
      inc.port.post({ t: 'stop' });
      inc.port.flush();
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 2_000).unref())]);
      await inc.worker.terminate();
    }
    this.notice('xyn.kernel.actor.stopped', { actor: this.id, incarnation: this.incarnation });
  }

  onCrash(listener: (error: Error) => void): void {
    this.crashListeners.push(listener);
  }

  /** Waiting: the mailbox and what the thread holds, not yet answered. */
  info(): ActorInfo {
    const startedAt = this.status === 'running' ? this.startedAt : null;
    return { name: this.id, kind: 'worker', state: this.status, mailbox: this.mailbox.size + this.inflight.size, handled: this.handled, restarts: Math.max(0, this.incarnation - 1), started_at: startedAt };
  }

  private assertOpen(): void {
    if (this.status === 'stopped') throw new ActorStoppedError(this.id, 'stopped');
  }

  /** Moves messages from the mailbox to the thread (they become in flight). */
  private pump(): void {
    const inc = this.current;
    if (this.status !== 'running' || !inc) return;
    for (let e = this.mailbox.take(); e; e = this.mailbox.take()) {
      this.inflight.set(e.n, e);
      inc.port.post({ t: 'msg', n: e.n, m: e.message, r: e.reply ? 1 : 0 });
    }
  }

  private onReplies(inc: Incarnation, items: FromHost[]): void {
    if (inc !== this.current) {
      // A stopping or dead incarnation: only its goodbye matters.
      if (items.some((i) => i.t === 'stopped')) inc.stopped?.();
      return;
    }
    for (const item of items) {
      switch (item.t) {
        case 'ready':
          inc.ready.resolve();
          break;
        case 'start_failed':
          inc.ready.reject(deserializeError(item.e));
          break;
        case 'done': {
          const envelope = this.inflight.get(item.n);
          this.inflight.delete(item.n);
          this.handled++;
          envelope?.reply?.resolve(item.v as R);
          break;
        }
        case 'crash': {
          const envelope = this.inflight.get(item.n);
          this.inflight.delete(item.n);
          this.handled++;
          const error = deserializeError(item.e);
          envelope?.reply?.reject(error);
          this.crash(inc, error);
          return;
        }
        case 'stopped':
          inc.stopped?.();
          break;
      }
    }
  }

  private onThreadDeath(inc: Incarnation, code: number | null, reason: string): void {
    if (inc !== this.current) return;
    const error = new WorkerExitError(this.id, code, reason);
    if (this.status === 'starting') {
      inc.ready.reject(error);
      return;
    }
    this.crash(inc, error);
  }

  private crash(inc: Incarnation, error: Error): void {
    this.current = undefined;
    this.status = 'crashed';
    void inc.worker.terminate();
    this.notice('xyn.kernel.actor.crashed', {
      actor: this.id,
      incarnation: this.incarnation,
      thread_id: inc.worker.threadId,
      in_flight: this.inflight.size,
      error: error.message,
    });
    if (this.crashListeners.length === 0) {
      void this.stop();
      return;
    }
    for (const listener of this.crashListeners) listener(error);
  }
}
