/**
 * The plan lifecycle as a pure transition (src/hxo/run/plan-lifecycle.ts),
 * driven by a manual clock: no run, no timer, no sleep.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import {
  claiming,
  initialLifecycle,
  persistLifecycle,
  restoreLifecycle,
  timeboxLeft,
  transition,
  type LifecycleEvent,
  type PlanLifecycle,
} from '../../src/hxo/run/plan-lifecycle.ts';

function drive(clock: ManualClock, s: PlanLifecycle, ...events: LifecycleEvent[]): PlanLifecycle {
  return events.reduce((at, e) => transition(at, e, clock.now()), s);
}

describe('the plan lifecycle', () => {
  it('ends aborted when a tick comes past the timebox, not before', () => {
    const clock = new ManualClock(1_000);
    let s = initialLifecycle(clock.now(), 500);
    expect(timeboxLeft(s, clock.now())).toBe(500);
    clock.advance(499);
    s = drive(clock, s, { type: 'tick' });
    expect(s.phase).toBe('running');
    clock.advance(1);
    s = drive(clock, s, { type: 'tick' });
    expect(s).toMatchObject({ phase: 'aborted', reason: 'timebox of 500 ms exceeded', since: 1_500 });
    expect(claiming(s)).toBe(false);
  });

  it('claims only while running, not paused, halted or crashed; a pause keeps its first reason', () => {
    const clock = new ManualClock();
    const s0 = initialLifecycle(clock.now());
    expect(claiming(s0)).toBe(true);
    const paused = drive(clock, s0, { type: 'pause', reason: 'storage full' }, { type: 'pause', reason: 'again' });
    expect(paused.pausedFor).toBe('storage full');
    expect(claiming(paused)).toBe(false);
    expect(claiming(drive(clock, paused, { type: 'unpause' }))).toBe(true);
    expect(claiming(drive(clock, s0, { type: 'halt' }))).toBe(false);
    const crashed = drive(clock, s0, { type: 'crash', error: 'boom' }, { type: 'crash', error: 'second' });
    expect(crashed).toMatchObject({ phase: 'running', crashed: 'boom' });
    expect(claiming(crashed)).toBe(false);
  });

  it('goes running → certifying → an ended phase; an ended plan ignores everything after', () => {
    const clock = new ManualClock(10);
    let s = drive(clock, initialLifecycle(clock.now()), { type: 'pause', reason: 'full' }, { type: 'certify' });
    expect(s).toMatchObject({ phase: 'certifying' });
    expect(s.pausedFor).toBeUndefined();
    expect(drive(clock, s, { type: 'abort', reason: 'late' }).phase).toBe('certifying');
    clock.advance(5);
    s = drive(clock, s, { type: 'end', phase: 'certified' });
    expect(s).toMatchObject({ phase: 'certified', since: 15 });
    for (const e of [{ type: 'abort', reason: 'x' }, { type: 'fail', reason: 'y' }, { type: 'certify' }, { type: 'end', phase: 'failed' }] as LifecycleEvent[]) {
      expect(drive(clock, s, e)).toBe(s);
    }
  });

  it('a restart keeps what was decided (an abort, the deadline) and drops the incarnation’s own halt and crash, and the pause (the store’s condition, read again)', () => {
    const clock = new ManualClock(0);
    const s = drive(clock, initialLifecycle(clock.now(), 1_000), { type: 'pause', reason: 'full' }, { type: 'crash', error: 'boom' }, { type: 'halt' });
    const restored = restoreLifecycle(JSON.parse(JSON.stringify(persistLifecycle(s))));
    expect(restored).toEqual({ phase: 'running', since: 0, halted: false, timebox: { ms: 1_000, deadline: 1_000 } });
    // The deadline holds across the restart: it is not a new timebox.
    clock.advance(1_000);
    expect(drive(clock, restored, { type: 'tick' }).phase).toBe('aborted');
    const aborted = restoreLifecycle(persistLifecycle(drive(clock, s, { type: 'abort', reason: 'by admiral' })));
    expect(aborted).toMatchObject({ phase: 'aborted', reason: 'by admiral' });
    // One that crashed while certifying runs (and certifies) again.
    expect(restoreLifecycle(persistLifecycle(drive(clock, initialLifecycle(0), { type: 'certify' }))).phase).toBe('running');
  });
});
