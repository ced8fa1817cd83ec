/**
 * Supervisors, with Erlang/OTP semantics.
 *
 * - one_for_one: only the crashed child is restarted.
 * - one_for_all: every child is stopped (last started first) and all are restarted in order.
 * - rest_for_one: the crashed child and those started after it are restarted.
 * - Restart intensity: more than `maxRestarts` restarts within `withinMs`
 *   and the supervisor gives up: it stops its children and crashes itself,
 *   which escalates to its parent (a supervisor is itself Supervisable).
 * - Every restart and escalation is a kernel event.
 * - A child added as `temporary` is never restarted (Erlang's restart type):
 *   when it crashes it leaves the supervisor, and what its crash means is
 *   for its own crash listeners to decide (a plan's supervisor that gave up
 *   ends its plan failed; the node and the other plans go on).
 *
 *   const sup = new Supervisor('root', { strategy: 'one_for_one', maxRestarts: 3, withinMs: 5000 }, [a, b]);
 *   await sup.start();
 */
import { XynError, registerErrorClass } from '../core/errors.ts';
import type { ActorInfo, KernelNotice, Supervisable } from './actor.ts';
import { systemClock, type Clock } from '../core/clock.ts';

export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';

export interface SupervisorOptions {
  strategy: Strategy;
  /** At most this many restarts ... */
  maxRestarts: number;
  /** ... within this window, or the supervisor escalates. */
  withinMs: number;
  clock?: Clock;
  notice?: KernelNotice;
}

export class RestartIntensityError extends XynError {
  constructor(
    readonly supervisor: string,
    readonly restarts: number,
    readonly withinMs: number,
    readonly lastError: string,
  ) {
    super(
      `supervisor ${supervisor} gave up after ${restarts} restarts within ${withinMs} ms; last crash: ${lastError}`,
      'RESTART_INTENSITY',
      { supervisor, restarts, withinMs, lastError },
    );
  }
}
registerErrorClass(RestartIntensityError);

export class Supervisor implements Supervisable {
  private readonly children: Supervisable[];
  private readonly temporary = new WeakSet<Supervisable>();
  private restarts: number[] = [];
  private readonly crashListeners: ((error: Error) => void)[] = [];
  private state: 'new' | 'running' | 'restarting' | 'stopped' | 'failed' = 'new';
  /** Crashes are handled one at a time, in order. */
  private queue: Promise<void> = Promise.resolve();
  private readonly clock: Clock;
  private readonly notice: KernelNotice;
  /** For info(): starts, restarts performed and crashes handled (all time), when it last started. */
  private starts = 0;
  private performed = 0;
  private crashesHandled = 0;
  private startedAt: number | null = null;

  constructor(
    readonly id: string,
    private readonly options: SupervisorOptions,
    children: Supervisable[],
  ) {
    this.children = [...children];
    this.clock = options.clock ?? systemClock;
    this.notice = options.notice ?? (() => {});
    for (const child of this.children) child.onCrash((error) => this.onChildCrash(child, error));
  }

  /** Adds a child and starts it if the supervisor is running; a `temporary` one is never restarted. */
  async add(child: Supervisable, options: { temporary?: boolean } = {}): Promise<void> {
    this.children.push(child);
    if (options.temporary) this.temporary.add(child);
    child.onCrash((error) => this.onChildCrash(child, error));
    if (this.state === 'running') await child.start();
  }

  /** Takes a child out (one that ended its work); it is not stopped here. */
  remove(child: Supervisable): void {
    const at = this.children.indexOf(child);
    if (at >= 0) this.children.splice(at, 1);
  }

  async start(): Promise<void> {
    if (this.state === 'stopped') throw new Error(`supervisor ${this.id} is stopped`);
    // A restart by the parent begins with a clean restart history.
    this.restarts = [];
    this.state = 'running';
    this.starts++;
    this.startedAt = Date.now();
    for (const child of this.children) await child.start();
  }

  async halt(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'new';
    this.startedAt = null;
    await this.haltAll(this.children);
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.startedAt = null;
    for (const c of [...this.children].reverse()) await c.stop();
  }

  onCrash(listener: (error: Error) => void): void {
    this.crashListeners.push(listener);
  }

  /** Whether it runs its children now (a child added now starts at once). */
  get running(): boolean {
    return this.state === 'running';
  }

  /** The supervisor and, in order, its children's info. */
  info(): ActorInfo {
    const state = this.state === 'new' && this.starts > 0 ? 'halted' : this.state;
    const children = this.children.map((c) => c.info());
    return { name: this.id, kind: 'supervisor', state, mailbox: 0, handled: this.crashesHandled, restarts: this.performed, started_at: this.startedAt, children };
  }

  /** Restart timestamps inside the current window (exposed for status and tests). */
  get recentRestarts(): number {
    this.prune();
    return this.restarts.length;
  }

  private onChildCrash(child: Supervisable, error: Error): void {
    if (this.temporary.has(child)) {
      this.remove(child);
      return;
    }
    this.queue = this.queue.then(() => this.handleCrash(child, error));
  }

  private async handleCrash(child: Supervisable, error: Error): Promise<void> {
    if (this.state !== 'running') return;
    this.crashesHandled++;
    this.prune();
    if (this.restarts.length >= this.options.maxRestarts) {
      await this.giveUp(error);
      return;
    }
    this.restarts.push(this.clock.now());
    this.performed++;
    const index = this.children.indexOf(child);
    const affected =
      this.options.strategy === 'one_for_one'
        ? [child]
        : this.options.strategy === 'one_for_all'
          ? this.children
          : this.children.slice(index);
    this.notice('xyn.kernel.supervisor.restarting', {
      supervisor: this.id,
      strategy: this.options.strategy,
      child: child.id,
      restarting: affected.map((c) => c.id),
      error: error.message,
    });
    this.state = 'restarting';
    try {
      // Siblings that did not crash are stopped, last started first, before anyone restarts.
      await this.haltAll(affected.filter((c) => c !== child));
      for (const c of affected) await c.start();
    } catch (startError) {
      this.state = 'running';
      await this.giveUp(startError instanceof Error ? startError : new Error(String(startError)));
      return;
    }
    this.state = 'running';
    this.notice('xyn.kernel.actor.restarted', { supervisor: this.id, children: affected.map((c) => c.id) });
  }

  private async giveUp(lastError: Error): Promise<void> {
    const error = new RestartIntensityError(this.id, this.restarts.length, this.options.withinMs, lastError.message);
    this.state = 'failed';
    this.startedAt = null;
    await this.haltAll(this.children);
    this.notice('xyn.kernel.supervisor.escalated', { supervisor: this.id, error: error.message });
    for (const listener of this.crashListeners) listener(error);
  }

  private async haltAll(children: Supervisable[]): Promise<void> {
    for (const c of [...children].reverse()) await c.halt();
  }

  private prune(): void {
    const horizon = this.clock.now() - this.options.withinMs;
    this.restarts = this.restarts.filter((t) => t > horizon);
  }
}
