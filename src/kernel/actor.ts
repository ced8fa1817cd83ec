/**
 * Actors: what they are to their callers and to their supervisors.
 *
 * An actor is reached through an `ActorRef` — `send` (fire and forget) and
 * `ask` (request/reply with a timeout) — whether it runs in this thread
 * (`LocalActor`) or in a worker thread (`WorkerActor`): the caller cannot tell.
 * The ref is stable across restarts; each restart is a new *incarnation*
 * behind the same ref and mailbox.
 *
 * Crash semantics follow Erlang/OTP: a handler that throws crashes its
 * incarnation. The message that threw is answered with the error (an `ask`
 * rejects with it); the supervisor decides whether a new incarnation picks up
 * the rest of the mailbox. Expected failures should be returned as values.
 */
import { XynError, registerErrorClass } from '../core/errors.ts';

export interface AskOptions {
  /** Reject with ActorTimeoutError after this long (default 5,000 ms). */
  timeoutMs?: number;
}

export interface ActorRef<M = unknown, R = unknown> {
  readonly id: string;
  send(message: M): void;
  ask(message: M, options?: AskOptions): Promise<R>;
}

/** The behaviour of one incarnation of an actor. */
export interface ActorLogic<M, R> {
  receive(message: M): R | Promise<R>;
  /** Called on an orderly stop (not on a crash). */
  stop?(): void | Promise<void>;
}

export interface ActorContext<M = unknown, R = unknown> {
  readonly self: ActorRef<M, R>;
  /** 1 for the first incarnation, then one more per restart. */
  readonly incarnation: number;
}

export type ActorFactory<M, R> = (ctx: ActorContext<M, R>) => ActorLogic<M, R> | Promise<ActorLogic<M, R>>;

export type ExitReason = { kind: 'stopped' } | { kind: 'crashed'; error: Error };

/**
 * One node of the live supervision tree (`GET /api/v1/actors`, `xyn ps`),
 * what Erlang's observer shows of a process. Counters are plain integers
 * bumped on paths that run anyway; nothing is counted per shard.
 */
export interface ActorInfo {
  /** 'root', 'audit', 'autonomy', 'hxo', 'pool', 'thread:0' … */
  name: string;
  /** 'supervisor' | 'topic' | 'local' | 'worker' | 'pool' | 'shard-worker' | 'engine' … */
  kind: string;
  /** running | restarting | halted | stopped | failed | crashed | new | idle | busy … */
  state: string;
  /** Messages waiting (a topic actor: events delivered, not yet handled; a pool: tasks queued; a thread: tasks on it). */
  mailbox: number;
  /** Messages, events or tasks handled so far, across incarnations (a supervisor: crashes of its children). */
  handled: number;
  /** Restarts so far (a supervisor: the restarts it performed; a thread: times its slot's thread was replaced). */
  restarts: number;
  /** Epoch ms the current incarnation started; null when it is not running. */
  started_at: number | null;
  children?: ActorInfo[];
}

/** What a supervisor needs from a child: start it, stop it, hear when it dies. */
export interface Supervisable {
  readonly id: string;
  /** Starts (or, after a crash, restarts) the child. */
  start(): Promise<void>;
  /** Stops the current incarnation but keeps the mailbox: `start` may follow (restarts of siblings). */
  halt(): Promise<void>;
  /** Stops the child for good; pending asks reject with ActorStoppedError. */
  stop(): Promise<void>;
  /** Called once per incarnation that crashes (not on an orderly stop). */
  onCrash(listener: (error: Error) => void): void;
  /** How it is doing now, for the supervision tree. */
  info(): ActorInfo;
}

/** Lifecycle notices the kernel turns into `xyn.kernel.*` events. */
export type KernelNotice = (name: string, data: Record<string, unknown>) => void;

export class ActorTimeoutError extends XynError {
  constructor(
    readonly actor: string,
    readonly ms: number,
  ) {
    super(`actor ${actor} did not reply within ${ms} ms`, 'ACTOR_TIMEOUT', { actor, ms });
  }
}

export class ActorStoppedError extends XynError {
  constructor(
    readonly actor: string,
    readonly reason: string,
  ) {
    super(`actor ${actor} is stopped: ${reason}`, 'ACTOR_STOPPED', { actor, reason });
  }
}

/** A worker thread died (exit, uncaught error, kill) under an actor. */
export class WorkerExitError extends XynError {
  constructor(
    readonly actor: string,
    readonly exitCode: number | null,
    reason: string,
  ) {
    super(`worker thread of ${actor} died: ${reason}`, 'WORKER_EXIT', { actor, exitCode, reason });
  }
}

registerErrorClass(ActorTimeoutError);
registerErrorClass(ActorStoppedError);
registerErrorClass(WorkerExitError);
