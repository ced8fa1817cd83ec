/**
 * Cron triggers on a real store, driven by a ManualClock (no sleeps, no
 * timers): exactly once per due time, once after downtime with the missed
 * count, no back-fire for new or changed schedules, retries after a rejected
 * fire, no double fire from concurrent ticks, and state that survives a reopen.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { openStore, type Store } from '../../src/store/env.ts';
import { CronTriggers, MAX_COUNTED_MISSED, type CronBlueprint, type CronFire } from '../../src/xyn/triggers/index.ts';
import { cronDb } from '../../src/xyn/triggers/cron.ts';
import { tempDir } from '../kernel/helpers.ts';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const at = (iso: string): number => Date.parse(iso);
const MIN = 60_000;
const HOUR = 60 * MIN;
const hourly: CronBlueprint = { blueprint_id: 'bp.hourly', version: 1, cron: '0 * * * *' };
const nightly: CronBlueprint = { blueprint_id: 'bp.nightly', version: 1, cron: '30 2 * * *' };

describe('CronTriggers', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: Store;
  let clock: ManualClock;
  let fired: CronFire[];
  let errors: { err: unknown; f: CronFire | undefined }[];
  let fire: (f: CronFire) => Promise<void>;

  const triggers = (over: { fire?: (f: CronFire) => Promise<void> } = {}): CronTriggers =>
    new CronTriggers({
      store,
      clock,
      timers: false,
      fire: over.fire ?? fire,
      onError: (err, f) => errors.push({ err, f }),
    });

  /** Closes and reopens the store, as a restart does. */
  const reopen = async (): Promise<void> => {
    await store.close();
    store = openStore({ path: dir.path });
  };

  beforeEach(() => {
    dir = tempDir();
    store = openStore({ path: dir.path });
    clock = new ManualClock(T0);
    fired = [];
    errors = [];
    fire = async (f) => {
      fired.push(f);
    };
  });
  afterEach(async () => {
    await store.close();
    dir.cleanup();
  });

  it('fires at the due time, not before, and once', async () => {
    const cron = triggers();
    cron.set([nightly]);
    expect(cron.next()).toEqual([{ blueprint_id: 'bp.nightly', at: at('2026-12-01T02:30:00Z') }]);
    clock.advance(2.5 * HOUR - 1);
    expect(await cron.tick()).toEqual([]);
    clock.advance(1);
    const due = { blueprint_id: 'bp.nightly', version: 1, scheduled_at: at('2026-12-01T02:30:00Z'), missed: 0 };
    expect(await cron.tick()).toEqual([due]);
    clock.advance(HOUR);
    expect(await cron.tick()).toEqual([]);
    expect(fired).toEqual([due]);
    expect(cron.next()).toEqual([{ blueprint_id: 'bp.nightly', at: at('2026-12-02T02:30:00Z') }]);
  });

  it('reads a 6-field expression with seconds first', async () => {
    const cron = triggers();
    cron.set([{ blueprint_id: 'bp.fast', version: 1, cron: '*/10 * * * * *' }]);
    clock.advance(9_999);
    expect(await cron.tick()).toEqual([]);
    clock.advance(1);
    expect(await cron.tick()).toEqual([{ blueprint_id: 'bp.fast', version: 1, scheduled_at: T0 + 10_000, missed: 0 }]);
    clock.advance(25_000);
    expect(await cron.tick()).toEqual([{ blueprint_id: 'bp.fast', version: 1, scheduled_at: T0 + 30_000, missed: 1 }]);
  });

  it('reads the expression in the blueprint timezone', async () => {
    const cron = triggers();
    cron.set([{ ...nightly, timezone: 'Europe/Berlin' }]);
    // 02:30 in Berlin in December (UTC+1) is 01:30 UTC.
    expect(cron.next()).toEqual([{ blueprint_id: 'bp.nightly', at: at('2026-12-01T01:30:00Z') }]);
    clock.advance(1.5 * HOUR);
    expect(await cron.tick()).toEqual([{ blueprint_id: 'bp.nightly', version: 1, scheduled_at: at('2026-12-01T01:30:00Z'), missed: 0 }]);
  });

  it('after downtime over 5 fire times, fires once on start with missed=4', async () => {
    const before = triggers();
    before.set([hourly]);
    clock.advance(HOUR);
    expect(await before.tick()).toHaveLength(1);
    await before.stop();
    await reopen();

    clock.advance(5.5 * HOUR); // 02:00 .. 06:00 passed while down
    const after = triggers();
    after.set([hourly]);
    after.start();
    await after.stop();
    expect(fired).toEqual([
      { blueprint_id: 'bp.hourly', version: 1, scheduled_at: at('2026-12-01T01:00:00Z'), missed: 0 },
      { blueprint_id: 'bp.hourly', version: 1, scheduled_at: at('2026-12-01T06:00:00Z'), missed: 4 },
    ]);
    expect(await after.tick()).toEqual([]);
  });

  it('catches up once after a restart even when it never fired before the downtime', async () => {
    const before = triggers();
    before.set([hourly]);
    await before.stop();
    await reopen();
    clock.advance(3 * HOUR);
    const after = triggers();
    after.set([hourly]);
    expect(await after.tick()).toEqual([{ blueprint_id: 'bp.hourly', version: 1, scheduled_at: at('2026-12-01T03:00:00Z'), missed: 2 }]);
  });

  it('does not back-fire a blueprint seen for the first time', async () => {
    const cron = triggers();
    cron.set([hourly]);
    clock.advance(2.5 * HOUR);
    cron.set([hourly, nightly]);
    expect(await cron.tick()).toEqual([{ blueprint_id: 'bp.hourly', version: 1, scheduled_at: at('2026-12-01T02:00:00Z'), missed: 1 }]);
    clock.advance(HOUR);
    expect(await cron.tick()).toEqual([{ blueprint_id: 'bp.hourly', version: 1, scheduled_at: at('2026-12-01T03:00:00Z'), missed: 0 }]);
    expect(cron.next()).toContainEqual({ blueprint_id: 'bp.nightly', at: at('2026-12-02T02:30:00Z') });
  });

  it('starts a changed expression or timezone from now, and keeps the state when only the version changed', async () => {
    const cron = triggers();
    cron.set([hourly]);
    clock.advance(2.5 * HOUR);
    cron.set([{ ...hourly, version: 2 }]); // same schedule: 01:00 and 02:00 are still owed
    expect(await cron.tick()).toEqual([{ blueprint_id: 'bp.hourly', version: 2, scheduled_at: at('2026-12-01T02:00:00Z'), missed: 1 }]);

    clock.advance(HOUR); // 03:30: 03:00 is owed under the old expression
    cron.set([{ ...hourly, version: 3, cron: '45 * * * *' }]);
    expect(await cron.tick()).toEqual([]);
    clock.advance(15 * MIN);
    expect(await cron.tick()).toEqual([{ blueprint_id: 'bp.hourly', version: 3, scheduled_at: at('2026-12-01T03:45:00Z'), missed: 0 }]);

    clock.advance(30 * MIN); // 04:15: 03:45 UTC has passed; in Kolkata (UTC+5:30) :45 falls at :15 UTC
    cron.set([{ ...hourly, version: 4, cron: '45 * * * *', timezone: 'Asia/Kolkata' }]);
    expect(await cron.tick()).toEqual([]);
    expect(cron.next()).toEqual([{ blueprint_id: 'bp.hourly', at: at('2026-12-01T05:15:00Z') }]);
  });

  it('retries a rejected fire on the next tick, and fires the other blueprints meanwhile', async () => {
    let fail = true;
    const cron = triggers({
      fire: async (f) => {
        if (f.blueprint_id === 'bp.hourly' && fail) throw new Error('bus down');
        fired.push(f);
      },
    });
    cron.set([hourly, { ...hourly, blueprint_id: 'bp.other' }]);
    clock.advance(HOUR);
    const due = { blueprint_id: 'bp.hourly', version: 1, scheduled_at: at('2026-12-01T01:00:00Z'), missed: 0 };
    expect(await cron.tick()).toEqual([{ ...due, blueprint_id: 'bp.other' }]);
    expect(errors).toEqual([{ err: new Error('bus down'), f: due }]);
    expect(await cron.tick()).toEqual([]);
    fail = false;
    expect(await cron.tick()).toEqual([due]);
    expect(await cron.tick()).toEqual([]);
    expect(errors).toHaveLength(2);
  });

  it('fires once for concurrent ticks', async () => {
    let release = (): void => {};
    const held = new Promise<void>((r) => (release = r));
    let calls = 0;
    const cron = triggers({
      fire: async () => {
        calls += 1;
        await held;
      },
    });
    cron.set([hourly]);
    clock.advance(HOUR);
    const ticks = [cron.tick(), cron.tick(), cron.tick()];
    release();
    const results = await Promise.all(ticks);
    expect(calls).toBe(1);
    expect(results.map((r) => r.length)).toEqual([1, 0, 0]);
  });

  it('stops firing a blueprint left out by set, and forgets its state', async () => {
    const cron = triggers();
    cron.set([hourly]);
    clock.advance(HOUR);
    expect(await cron.tick()).toHaveLength(1);
    cron.set([]);
    clock.advance(3 * HOUR);
    expect(await cron.tick()).toEqual([]);
    expect(cron.next()).toEqual([]);
    await cron.stop();
    expect(cronDb(store).get('bp.hourly')).toBeUndefined();
    // Back again: it starts from now, owing nothing for the hours it was out.
    cron.set([hourly]);
    expect(await cron.tick()).toEqual([]);
    expect(cron.next()).toEqual([{ blueprint_id: 'bp.hourly', at: at('2026-12-01T05:00:00Z') }]);
    expect(cronDb(store).get('bp.hourly')?.last_fired_at).toBe(at('2026-12-01T04:00:00Z'));
    // Out and back within one turn, before the removal is written: still from now.
    clock.advance(3 * HOUR);
    cron.set([]);
    cron.set([hourly]);
    expect(await cron.tick()).toEqual([]);
    await cron.stop();
    expect(cronDb(store).get('bp.hourly')?.last_fired_at).toBe(at('2026-12-01T07:00:00Z'));
  });

  it('counts missed fire times up to MAX_COUNTED_MISSED, and still fires the latest', async () => {
    const cron = triggers();
    cron.set([{ blueprint_id: 'bp.every_second', version: 1, cron: '* * * * * *' }]);
    clock.advance(2 * 24 * HOUR + 500);
    expect(await cron.tick()).toEqual([{ blueprint_id: 'bp.every_second', version: 1, scheduled_at: T0 + 2 * 24 * HOUR, missed: MAX_COUNTED_MISSED }]);
  });

  it('leaves out an unreadable expression, telling onError, and runs the others', async () => {
    const cron = triggers();
    cron.set([{ blueprint_id: 'bp.bad', version: 1, cron: '61 * * * *' }, hourly, { blueprint_id: 'bp.never', version: 1, cron: '0 0 30 2 *' }]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.f).toBeUndefined();
    expect(cron.next()).toEqual([{ blueprint_id: 'bp.hourly', at: at('2026-12-01T01:00:00Z') }]);
    clock.advance(HOUR);
    expect((await cron.tick()).map((f) => f.blueprint_id)).toEqual(['bp.hourly']);
  });

  it('keeps its state across a reopen', async () => {
    const before = triggers();
    before.set([{ ...nightly, timezone: 'Europe/Berlin' }]);
    clock.advance(1.5 * HOUR);
    expect(await before.tick()).toHaveLength(1);
    await before.stop();
    await reopen();
    expect(cronDb(store).get('bp.nightly')).toEqual({ version: 1, cron: '30 2 * * *', timezone: 'Europe/Berlin', last_fired_at: at('2026-12-01T01:30:00Z') });

    clock.advance(HOUR);
    const after = triggers();
    after.set([{ ...nightly, timezone: 'Europe/Berlin' }]);
    expect(await after.tick()).toEqual([]);
    clock.advance(23 * HOUR);
    expect(await after.tick()).toEqual([{ blueprint_id: 'bp.nightly', version: 1, scheduled_at: at('2026-12-02T01:30:00Z'), missed: 0 }]);
  });

  it('with timers, a timer ticks when the next fire is due', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const cron = new CronTriggers({ store, clock, fire, onError: (err, f) => errors.push({ err, f }) });
      cron.set([hourly]);
      cron.start();
      await vi.advanceTimersByTimeAsync(0);
      expect(fired).toEqual([]);
      // The timer sleeps at most a minute at a time, reading the clock each time it wakes.
      for (let i = 0; i < 60; i++) {
        clock.advance(MIN);
        await vi.advanceTimersByTimeAsync(MIN);
      }
      await cron.stop();
      expect(fired).toEqual([{ blueprint_id: 'bp.hourly', version: 1, scheduled_at: at('2026-12-01T01:00:00Z'), missed: 0 }]);
      expect(errors).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});
