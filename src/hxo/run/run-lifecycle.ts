/**
 * A live run's lifecycle as the engine, the plan actor and the store's
 * pauses drive it: the pure transition of plan-lifecycle.ts held for one
 * run and moved on only by `send`, the verbs that send (abort, halt, pause,
 * crash), and what they leave to read. The run (plan-run.ts) acts on each
 * change in `moved`: it claims again, or ends once drained.
 */
import type { Clock } from '../../core/clock.ts';
import { claiming, transition, type LifecycleEvent, type PlanLifecycle, type PlanPhase } from './plan-lifecycle.ts';

/** The run's lifecycle to start from, and the clock its transitions are timed by. */
export interface RunLifecycle {
  initial: PlanLifecycle;
  clock: Clock;
}

export abstract class LiveLifecycle {
  /** Where the run is in its lifecycle: changed only by `send`. */
  private life: PlanLifecycle;
  /** What this incarnation crashed with (its lifecycle holds the message). */
  private crashError: Error | undefined;

  constructor(private readonly lifecycle: RunLifecycle) {
    this.life = lifecycle.initial;
  }

  /** The lifecycle moved on from `before`. */
  protected abstract moved(before: PlanLifecycle): void;

  get state(): PlanPhase {
    return this.life.phase;
  }

  /** Why the plan ended aborted or failed. */
  get abortReason(): string | undefined {
    return this.life.reason;
  }

  /** The lifecycle now (what the plan actor persists across its restarts). */
  get lifecycleNow(): PlanLifecycle {
    return this.life;
  }

  /** Moves the lifecycle on (plan-lifecycle.ts) and acts on the change. */
  send(event: LifecycleEvent): void {
    const before = this.life;
    this.life = transition(before, event, this.lifecycle.clock.now());
    if (this.life !== before) this.moved(before);
  }

  /** Stops claiming shards; running batches finish (or time out). */
  abort(reason: string): void {
    this.send({ type: 'abort', reason });
  }

  /**
   * Something in the run's own handling threw (a bug, or a partitioner
   * that failed while taking inputs): nothing more is claimed, running
   * batches drain and are checkpointed, and then `executed` resolves with
   * `crashedWith` set — the plan actor crashes, and its supervisor starts a
   * new run from the checkpoints.
   */
  crash(error: unknown): void {
    this.crashError ??= error instanceof Error ? error : new Error(String(error));
    this.send({ type: 'crash', error: this.crashError.message });
  }

  /** The error this run crashed with, once it has drained. */
  get crashedWith(): Error | undefined {
    return this.crashError;
  }

  /**
   * The node is stopping: no more shards are claimed, and the run ends once
   * its running batches have (their checkpoints written). Unlike an abort
   * it leaves no mark: the plan stays unfinished, and resumes at the next start.
   */
  halt(): void {
    this.send({ type: 'halt' });
  }

  /**
   * No more shards are claimed until `unpause` (the store is full); running
   * batches finish, and what they could not checkpoint runs again later. A
   * paused run is not over: it ends only once its shards have.
   */
  pause(reason: string): void {
    this.send({ type: 'pause', reason });
  }

  unpause(): void {
    this.send({ type: 'unpause' });
  }

  /** Why the run claims no shards for now, if it is paused. */
  get pausedReason(): string | undefined {
    return this.life.pausedFor;
  }

  /** Whether the run ended because the node is stopping (halt), not because its shards did. */
  get wasHalted(): boolean {
    return this.life.halted;
  }

  /** Halted or crashed: the run ends once drained, with its shards not all ended. */
  protected get interrupted(): boolean {
    return this.life.halted || this.life.crashed !== undefined;
  }

  /** Whether shards may be claimed now. */
  protected get claiming(): boolean {
    return claiming(this.life);
  }

  /** The plan failed: nothing more is claimed, and the run ends once drained. */
  protected fail(reason: string): void {
    this.send({ type: 'fail', reason });
  }
}
