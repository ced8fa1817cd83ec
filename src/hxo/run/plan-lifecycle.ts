/**
 * A live plan's lifecycle as a pure transition (the xstate v5 shape): a
 * snapshot, events, and `transition(snapshot, event, now)` giving the next
 * snapshot — no timers, no I/O, time passed in. The plan actor holds the
 * snapshot, feeds it events, and persists it across its restarts, so what
 * was decided (an abort, the timebox's deadline) outlives a crash.
 *
 *   running ──certify──▶ certifying ──end──▶ certified | failed
 *      │ pause/unpause (claims nothing while paused)
 *      │ halt (the node stops: claims nothing, stays unfinished)
 *      │ crash (claims nothing; the supervisor starts a new incarnation)
 *      └─abort | fail | tick past the deadline──▶ aborted | failed
 *
 *   let s = initialLifecycle(clock.now(), plan.timebox_ms);
 *   s = transition(s, { type: 'pause', reason: 'storage full' }, clock.now());
 *   claiming(s); // false
 */
export type PlanPhase = 'running' | 'certifying' | 'certified' | 'failed' | 'aborted';

export interface PlanLifecycle {
  readonly phase: PlanPhase;
  /** Epoch ms the phase was entered. */
  readonly since: number;
  /** Why the plan ended aborted or failed. */
  readonly reason?: string;
  /** Why no shard is claimed for now (the store is full), until `unpause`. */
  readonly pausedFor?: string;
  /** The node is stopping: nothing more is claimed; the plan stays unfinished. */
  readonly halted: boolean;
  /** The error this incarnation crashed with: nothing more is claimed, and the supervisor restarts it. */
  readonly crashed?: string;
  /** The plan's timebox, and the epoch ms it runs out (fixed when the plan first started). */
  readonly timebox?: { ms: number; deadline: number };
}

export type LifecycleEvent =
  | { type: 'pause'; reason: string }
  | { type: 'unpause' }
  | { type: 'halt' }
  | { type: 'crash'; error: string }
  | { type: 'abort'; reason: string }
  | { type: 'fail'; reason: string }
  /** Time passed: past the deadline, the plan is aborted. */
  | { type: 'tick' }
  | { type: 'certify' }
  | { type: 'end'; phase: 'certified' | 'failed' | 'aborted'; reason?: string };

/**
 * What outlives an incarnation: the decisions (an abort, the deadline), not
 * the incarnation's own condition (halted, crashed) nor the store's (a pause:
 * a new run is paused if the store is full when it starts, storage-pause.ts).
 */
export type PersistedLifecycle = Pick<PlanLifecycle, 'phase' | 'since' | 'reason' | 'timebox'>;

export function initialLifecycle(now: number, timeboxMs?: number): PlanLifecycle {
  return { phase: 'running', since: now, halted: false, ...(timeboxMs ? { timebox: { ms: timeboxMs, deadline: now + timeboxMs } } : {}) };
}

export function transition(s: PlanLifecycle, e: LifecycleEvent, now: number): PlanLifecycle {
  switch (e.type) {
    case 'pause':
      return s.phase === 'running' && s.pausedFor === undefined ? { ...s, pausedFor: e.reason } : s;
    case 'unpause':
      return s.pausedFor === undefined ? s : without(s, 'pausedFor');
    case 'halt':
      return s.phase === 'running' && !s.halted ? { ...s, halted: true } : s;
    case 'crash':
      return s.crashed === undefined ? { ...s, crashed: e.error } : s;
    case 'abort':
      return s.phase === 'running' ? ended(s, 'aborted', e.reason, now) : s;
    case 'fail':
      return s.phase === 'running' ? ended(s, 'failed', e.reason, now) : s;
    case 'tick':
      return s.phase === 'running' && s.timebox && now >= s.timebox.deadline ? ended(s, 'aborted', `timebox of ${s.timebox.ms} ms exceeded`, now) : s;
    case 'certify':
      return s.phase === 'running' ? { ...without(s, 'pausedFor'), phase: 'certifying', since: now } : s;
    case 'end':
      return s.phase === 'running' || s.phase === 'certifying' ? ended(s, e.phase, e.reason, now) : s;
  }
}

/** Whether shards may be claimed: running, not paused, not halted, not crashed. */
export function claiming(s: PlanLifecycle): boolean {
  return s.phase === 'running' && !s.halted && s.pausedFor === undefined && s.crashed === undefined;
}

export function persistLifecycle(s: PlanLifecycle): PersistedLifecycle {
  const { halted: _halted, crashed: _crashed, pausedFor: _pausedFor, ...kept } = s;
  return kept;
}

/** A new incarnation's lifecycle: what was decided before it, neither halted nor crashed; one that was certifying runs (and certifies) again. */
export function restoreLifecycle(p: PersistedLifecycle): PlanLifecycle {
  return { ...p, phase: p.phase === 'certifying' ? 'running' : p.phase, halted: false };
}

/** Milliseconds left of the timebox (undefined without one). */
export function timeboxLeft(s: PlanLifecycle, now: number): number | undefined {
  return s.timebox && Math.max(0, s.timebox.deadline - now);
}

function ended(s: PlanLifecycle, phase: 'certified' | 'failed' | 'aborted', reason: string | undefined, now: number): PlanLifecycle {
  const { pausedFor: _paused, reason: _reason, ...rest } = s;
  return { ...rest, phase, since: now, ...(reason !== undefined ? { reason } : {}) };
}

function without<K extends 'pausedFor'>(s: PlanLifecycle, key: K): PlanLifecycle {
  const copy = { ...s };
  delete copy[key];
  return copy;
}
