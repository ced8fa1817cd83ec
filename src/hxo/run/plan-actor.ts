/**
 * A live plan as an actor of the supervision tree: `hxo → plan:<id> → run`.
 *
 * Each incarnation is one run of the plan's shards from its checkpoints to
 * its report (run → certify → replay bad leaves: plan-launcher.ts). What the
 * plan decided — aborted, its timebox's deadline — is its lifecycle
 * (plan-lifecycle.ts), persisted here when an incarnation ends and restored
 * into the next, so a restart neither forgets an abort nor resets a timebox.
 *
 * An incarnation that throws (its run crashed, or certifying it threw)
 * crashes the actor; its supervisor `plan:<id>` starts a new incarnation,
 * which resumes from the checkpoints and certifies the same root. Past the
 * supervisor's restart intensity the supervisor gives up, and the engine
 * ends the plan failed with the reason. One that halts (the node stops)
 * ends with NodeStoppingError: an orderly exit, not a crash.
 *
 *   const actor = new PlanActor(planId, first, (n, life) => incarnation(n, life), outcome);
 *   await plans.add(new Supervisor(`plan:${planId}`, intensity, [actor]), { temporary: true });
 */
import type { ActorInfo, Supervisable } from '../../kernel/actor.ts';
import type { PlanReport } from '../report.ts';
import { NodeStoppingError } from '../engine-errors.ts';
import { persistLifecycle, restoreLifecycle, type PersistedLifecycle, type PlanLifecycle } from './plan-lifecycle.ts';

/** One incarnation of a plan actor: a run of the plan, from its checkpoints to its report. */
export interface PlanIncarnation {
  /** Runs it: the report; NodeStoppingError once halted; any other error is a crash. */
  run(): Promise<PlanReport>;
  /** No more shards are claimed; `finished` rejects with NodeStoppingError once what runs has drained. */
  halt(): void;
  /** The lifecycle now: persisted when the incarnation ends, for the next. */
  lifecycle(): PlanLifecycle;
  /** Shards ended and in flight now, for the tree's view. */
  progress(): { ended: number; inFlight: number };
}

/** What becomes of the plan, told once: its report, or the halt that left it unfinished. */
export interface PlanOutcome {
  ended(report: PlanReport): void;
  /** With the incarnation's error; without one when it was stopped between a crash and its restart. */
  halted(error?: NodeStoppingError): void;
}

export class PlanActor implements Supervisable {
  readonly id: string;
  private incarnations = 0;
  private current: { incarnation: PlanIncarnation; finished: Promise<PlanReport> } | undefined;
  private persisted: PersistedLifecycle | undefined;
  private halting = false;
  /** Whether its outcome (report or halt) was told. */
  private told = false;
  private startedAt: number | null = null;
  private readonly crashListeners: ((error: Error) => void)[] = [];

  constructor(
    readonly planId: string,
    /** The first incarnation, made by the caller (its errors are the submit's). */
    private first: PlanIncarnation | undefined,
    /** A later incarnation, from the lifecycle the last one left. */
    private readonly next: (incarnation: number, life: PlanLifecycle) => PlanIncarnation,
    private readonly outcome: PlanOutcome,
  ) {
    this.id = `plan:${planId}.run`;
  }

  async start(): Promise<void> {
    if (this.current) return;
    this.incarnations++;
    this.startedAt = Date.now();
    let incarnation: PlanIncarnation;
    try {
      incarnation = this.first ?? this.next(this.incarnations, restoreLifecycle(this.persisted as PersistedLifecycle));
    } catch (err) {
      // A run that cannot even be made again is a crash too: the supervisor counts it.
      queueMicrotask(() => this.crashed(err));
      return;
    }
    this.first = undefined;
    const current = { incarnation, finished: incarnation.run() };
    this.current = current;
    if (this.halting) incarnation.halt();
    current.finished.then(
      (report) => this.exited(current, () => this.tell(() => this.outcome.ended(report))),
      (err: unknown) => this.exited(current, () => (err instanceof NodeStoppingError ? this.tell(() => this.outcome.halted(err)) : this.crashed(err))),
    );
  }

  /** Halts the current incarnation and waits for it to drain. */
  async halt(): Promise<void> {
    this.halting = true;
    const current = this.current;
    if (!current) return;
    current.incarnation.halt();
    await current.finished.catch(() => undefined);
  }

  /**
   * Stops it for good (the node stops). One caught between a crash and its
   * restart has no incarnation to halt, and its supervisor, stopping too,
   * will not restart it: it is told halted here, so no one waits on it.
   */
  async stop(): Promise<void> {
    if (!this.current && this.incarnations > 0 && !this.told) {
      this.told = true;
      this.outcome.halted();
      return;
    }
    return this.halt();
  }

  onCrash(listener: (error: Error) => void): void {
    this.crashListeners.push(listener);
  }

  info(): ActorInfo {
    const progress = this.current?.incarnation.progress();
    return {
      name: this.id,
      kind: 'plan',
      state: this.current ? this.current.incarnation.lifecycle().phase : this.halting ? 'halted' : 'restarting',
      mailbox: progress?.inFlight ?? 0,
      handled: progress?.ended ?? 0,
      restarts: Math.max(0, this.incarnations - 1),
      started_at: this.current ? this.startedAt : null,
    };
  }

  private exited(current: NonNullable<PlanActor['current']>, then: () => void): void {
    this.persisted = persistLifecycle(current.incarnation.lifecycle());
    if (this.current === current) this.current = undefined;
    then();
  }

  /** Its report or its halt, told once: after that, stopping it has nothing to tell. */
  private tell(outcome: () => void): void {
    if (this.told) return;
    this.told = true;
    outcome();
  }

  private crashed(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    for (const listener of this.crashListeners) listener(error);
  }
}
