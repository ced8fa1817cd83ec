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
}

/** One actor of the live tree, as `GET /api/v1/actors` and `xyn ps` show it. */
export interface ActorInfo {
  name: string;
  kind: string;
  state: string;
  /** Messages waiting. */
  mailbox: number;
  /** Messages handled so far, across incarnations. */
  handled: number;
  /** Restarts so far. */
  restarts: number;
  /** Epoch ms the current incarnation started (null when not running). */
  started_at: number | null;
  children?: ActorInfo[];
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
