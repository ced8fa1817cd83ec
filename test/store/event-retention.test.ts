/**
 * Event-log retention on real LMDB files: trimming by age with a driven
 * clock (no waiting), by size over many appends (the store stays bounded),
 * in chunks of bounded transactions, seqs that never repeat after trimming
 * everything (across a reopen too), and a node that trims at start.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStore, type Store } from '../../src/store/env.ts';
import { EventLog } from '../../src/store/event-log.ts';
import { DAY_MS, EventRetention } from '../../src/store/event-retention.ts';
import { EventsTruncatedError } from '../../src/store/errors.ts';
import { Bus } from '../../src/kernel/bus.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/kernel/config.ts';
import { createLogger } from '../../src/kernel/log.ts';
import { startKernel } from '../../src/kernel/kernel.ts';
import { publishAudit } from '../../src/kernel/audit.ts';
import { tempDir, waitFor } from '../kernel/helpers.ts';

let dir: ReturnType<typeof tempDir>;
let store: Store;
let log: EventLog;
let clock: ManualClock;
let bus: Bus;

beforeEach(() => {
  dir = tempDir();
  store = openStore({ path: dir.path });
  log = new EventLog(store);
  clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
  bus = new Bus({ log, clock });
});

afterEach(async () => {
  await bus.close();
  await store.close();
  dir.cleanup();
});

async function publish(n: number, data: Record<string, unknown> = {}): Promise<void> {
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) all.push(bus.publish('test.retention', { i, ...data }));
  await Promise.all(all);
}

const seqs = (): number[] => log.read({ limit: Number.MAX_SAFE_INTEGER }).map((e) => e.seq);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('retention by age', () => {
  it('trims the events older than the age, oldest first, as the clock moves', async () => {
    await publish(50); // day 0: seqs 1..50
    clock.advance(3 * DAY_MS);
    await publish(50); // day 3: 51..100
    clock.advance(3 * DAY_MS);
    await publish(50); // day 6: 101..150
    const retention = new EventRetention(log, { maxAgeMs: 7 * DAY_MS, maxBytes: 0, clock });

    expect((await retention.trim()).removed).toBe(0);
    clock.advance(2 * DAY_MS); // day 8: day 0's events are 8 days old
    expect(await retention.trim()).toMatchObject({ removed: 50, oldest_seq: 51, held_at: null });
    expect(seqs()).toEqual(range(51, 150));
    clock.advance(3 * DAY_MS); // day 11: day 3's too
    expect(await retention.trim()).toMatchObject({ removed: 50, oldest_seq: 101 });
    expect(seqs()).toEqual(range(101, 150));
    expect(retention.stats()).toMatchObject({ passes: 3, removed: 100, failures: 0 });
  });

  it('deletes in transactions of at most `chunk` events', async () => {
    await publish(100);
    clock.advance(8 * DAY_MS);
    const writes = vi.spyOn(store, 'write');
    const retention = new EventRetention(log, { maxAgeMs: 7 * DAY_MS, maxBytes: 0, clock, chunk: 16 });
    expect((await retention.trim()).removed).toBe(100);
    expect(writes).toHaveBeenCalledTimes(Math.ceil(100 / 16));
    expect(seqs()).toEqual([]);
  });

  it('keeps everything with no age limit and no size cap', async () => {
    await publish(20);
    clock.advance(3650 * DAY_MS);
    expect((await new EventRetention(log, { maxAgeMs: 0, maxBytes: 0, clock }).trim()).removed).toBe(0);
    expect(seqs()).toEqual(range(1, 20));
  });
});

describe('the schedule', () => {
  it('runs a pass at once, then one every interval, until stopped', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      await publish(10);
      const retention = new EventRetention(log, { maxAgeMs: DAY_MS, maxBytes: 0, clock });
      const passes: number[] = [];
      retention.start(60_000, { onPass: (r) => passes.push(r.removed) });
      await waitFor(() => passes.length === 1, 5_000, 'the first pass');
      expect(passes).toEqual([0]);
      clock.advance(2 * DAY_MS);
      vi.advanceTimersByTime(60_000);
      await waitFor(() => passes.length === 2, 5_000, 'the second pass');
      expect(passes).toEqual([0, 10]);
      await retention.stop();
      expect(vi.getTimerCount()).toBe(0); // no interval left to run another pass
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('retention by size', () => {
  it('keeps the store bounded by the cap over many appends, keeping the newest events whole', async () => {
    const maxBytes = 512 * 1024;
    const retention = new EventRetention(log, { maxAgeMs: 7 * DAY_MS, maxBytes, clock });
    const payload = 'x'.repeat(400);
    const fileSizes: number[] = [];
    for (let round = 0; round < 40; round++) {
      await publish(500, { payload });
      const report = await retention.trim();
      expect(report.bytes).toBeLessThanOrEqual(maxBytes);
      fileSizes.push(statSync(join(dir.path, 'data.mdb')).size);
    }
    // 20,000 events of ~0.5 KiB were appended; the log kept only what fits, newest first, with no hole.
    expect(log.lastSeq).toBe(20_000);
    const kept = seqs();
    expect(kept.length).toBeGreaterThan(500);
    expect(kept).toEqual(range(log.oldestSeq, 20_000));
    // LMDB reuses the freed pages: the file stops growing once the log reaches its cap.
    expect(fileSizes.at(-1)).toBeLessThanOrEqual((fileSizes[9] as number) * 1.25);
  });
});

describe('a failed trim', () => {
  it('hides what it was removing and is finished by the next trim', async () => {
    await publish(10);
    vi.spyOn(store, 'write').mockRejectedValueOnce(new Error('disk full'));
    await expect(log.trimThrough(5)).rejects.toThrow('disk full');
    expect(log.oldestSeq).toBe(6);
    expect(seqs()).toEqual(range(6, 10));
    expect(log.footprint().events).toBe(10); // not deleted yet
    expect(await log.trimThrough(5)).toBe(5);
    expect(log.footprint().events).toBe(5);
  });
});

describe('seq after trimming', () => {
  it('never repeats or goes back, even when every event was trimmed, and across a reopen', async () => {
    await publish(20);
    expect(await log.trimThrough(log.lastSeq)).toBe(20);
    expect(seqs()).toEqual([]);
    expect([log.lastSeq, log.oldestSeq]).toEqual([20, 21]);
    expect((await bus.publish('test.retention', {})).seq).toBe(21);
    await log.trimThrough(21);

    await bus.close();
    await store.close();
    store = openStore({ path: dir.path });
    log = new EventLog(store);
    bus = new Bus({ log, clock });
    expect([log.lastSeq, log.oldestSeq]).toEqual([21, 22]);
    expect((await bus.publish('test.retention', {})).seq).toBe(22);
    expect(seqs()).toEqual([22]);
  });

  it('refuses a since below the oldest kept, naming it, and hides trimmed events from reads', async () => {
    await publish(10);
    await log.trimThrough(4);
    expect(() => log.checkSince(3)).toThrow(EventsTruncatedError);
    expect(() => log.checkSince(3)).toThrow(/below the oldest event kept \(seq 5\)/);
    expect(() => log.checkSince(4)).not.toThrow();
    expect(log.read({ since: 0 }).map((e) => e.seq)).toEqual(range(5, 10));
    expect(log.get(4)).toBeUndefined();
    expect(log.get(5)?.seq).toBe(5);
  });
});

describe('a node', () => {
  it('trims its event log at start by XYN_EVENTS_RETAIN_DAYS; the audit trail keeps its records', async () => {
    const data = tempDir();
    try {
      // A node's log with events from 10 days ago (one of them audited) and from now.
      const s = openStore({ path: join(data.path, 'store') });
      const old = new Bus({ log: new EventLog(s), clock: new ManualClock(Date.now() - 10 * DAY_MS) });
      for (let i = 0; i < 30; i++) await old.publish('test.old', { i });
      await publishAudit(old, { user: 'kyle', role: 'admiral', operation: 'test.old.op', details: {} });
      await old.close();
      const recent = new Bus({ log: new EventLog(s) });
      for (let i = 0; i < 5; i++) await recent.publish('test.recent', { i });
      await recent.close();
      await s.close();

      const kernel = await startKernel(loadConfig({ env: { XYN_DATA_DIR: data.path, XYN_WORKERS: '1', XYN_EVENTS_RETAIN_DAYS: '7' } }), {
        log: createLogger('warn', 'stderr'),
      });
      try {
        await waitFor(() => kernel.retention.stats().passes >= 1, 10_000, 'the first retention pass');
        expect(kernel.events.oldestSeq).toBe(32);
        const names = kernel.events.read({ limit: 100 }).map((e) => e.event_name);
        expect(names.slice(0, 5)).toEqual(Array(5).fill('test.recent'));
        expect(names).not.toContain('test.old');
        expect(names).not.toContain('hxo.audit');
        // The audit trail is its own store: it recorded the old audit event, and trimming the log leaves it whole.
        await waitFor(() => kernel.audit.list({ operation: 'test.old.op' }).length === 1, 10_000, 'the audit record');
        expect(kernel.audit.list({ operation: 'test.old.op' })[0]).toMatchObject({ event_seq: 31, user: 'kyle' });
        expect(kernel.audit.verify()).toMatchObject({ ok: true });
      } finally {
        await kernel.stop();
      }
    } finally {
      data.cleanup();
    }
  });
});
