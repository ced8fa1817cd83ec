/**
 * The bus while retention trims the log under it: a `since` below the oldest
 * kept seq is told `truncated` and then gets everything kept, with no other
 * gap; a replay overtaken by a trim is told `truncated`, never a silent gap;
 * a live subscriber loses nothing to trimming; a pinned subscription (the
 * audit trail's kind) holds trimming back until it has read the log.
 */
import { describe, expect, it } from 'vitest';
import type { EventLog } from '../../src/store/event-log.ts';
import { DAY_MS, EventRetention } from '../../src/store/event-retention.ts';
import type { Bus } from '../../src/kernel/bus.ts';
import { ManualClock } from '../../src/core/clock.ts';
import type { Delivery, Subscription } from '../../src/kernel/subscription.ts';
import { busOnLogPerTest } from './helpers.ts';

let log: EventLog;
let bus: Bus;
busOnLogPerTest((t) => ({ log, bus } = t));

async function publish(n: number, name = 'test.a'): Promise<void> {
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) all.push(bus.publish(name, { i }));
  await Promise.all(all);
}

/** The deliveries ready now (at most `most`), without waiting. */
function drain(sub: Subscription, most = Number.MAX_SAFE_INTEGER): Delivery[] {
  const out: Delivery[] = [];
  while (out.length < most) {
    const d = sub.poll();
    if (!d) break;
    out.push(d);
  }
  return out;
}

const seqOf = (d: Delivery): number => (d.type === 'event' ? d.event.seq : NaN);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('a since below the oldest kept seq', () => {
  it('is told truncated, then gets every event from the oldest kept on, then live ones, with no other gap', async () => {
    await publish(100);
    await log.trimThrough(40);
    const sub = bus.subscribe('test.*', { since: 10 });
    const history = drain(sub);
    expect(history[0]).toEqual({ type: 'truncated', oldest_seq: 41, from_seq: 11, to_seq: 40 });
    expect(history.slice(1).map(seqOf)).toEqual(range(41, 100));
    await publish(5);
    expect(drain(sub).map(seqOf)).toEqual(range(101, 105));
    expect(sub.stats()).toMatchObject({ truncated_notices: 1, delivered: 65 });
  });

  it('is told truncated even when every event was trimmed, then gets the live ones', async () => {
    await publish(20);
    await log.trimThrough(20);
    const sub = bus.subscribe('test.*', { since: 0 });
    expect(drain(sub)).toEqual([{ type: 'truncated', oldest_seq: 21, from_seq: 1, to_seq: 20 }]);
    await publish(3);
    expect(drain(sub).map(seqOf)).toEqual([21, 22, 23]);
  });

  it('at the oldest kept seq (since = oldest_seq - 1) is whole: no notice', async () => {
    await publish(30);
    await log.trimThrough(10);
    const sub = bus.subscribe('test.*', { since: 10 });
    expect(drain(sub).map(seqOf)).toEqual(range(11, 30));
  });
});

describe('trimming during a replay', () => {
  it('tells a replaying subscription truncated for exactly the trimmed range it had not read', async () => {
    await publish(2000);
    const sub = bus.subscribe('test.*', { since: 0 });
    const before = drain(sub, 300).map(seqOf);
    expect(before).toEqual(range(1, 300));

    await log.trimThrough(1000); // while the subscription is replaying
    await publish(10); // and live events keep coming
    const rest = drain(sub);
    const notices = rest.filter((d) => d.type !== 'event');
    expect(notices).toHaveLength(1);
    const notice = notices[0] as Extract<Delivery, { type: 'truncated' }>;
    expect(notice).toMatchObject({ type: 'truncated', oldest_seq: 1001, to_seq: 1000 });
    expect(notice.from_seq).toBeGreaterThan(300);
    expect(notice.from_seq).toBeLessThanOrEqual(1000);
    // What it had already read from the log (in memory) comes first, then the notice, then all that is kept.
    const at = rest.indexOf(notice);
    const read = rest.slice(0, at).map(seqOf);
    expect(read).toEqual(range(301, notice.from_seq - 1));
    expect(rest.slice(at + 1).map(seqOf)).toEqual(range(1001, 2010));
  });

  it('tells a lag: replay subscription that overflowed into the log truncated when the trim overtakes it', async () => {
    const sub = bus.subscribe('test.*', { since: 0, queueSize: 8 });
    await publish(100); // overflows the queue: the subscription re-reads the log from where its queue began
    expect(sub.stats().catching_up).toBe(true);
    await log.trimThrough(60);
    const got = drain(sub);
    expect(got[0]).toEqual({ type: 'truncated', oldest_seq: 61, from_seq: 1, to_seq: 60 });
    expect(got.slice(1).map(seqOf)).toEqual(range(61, 100));
  });
});

describe('live subscribers', () => {
  it('lose nothing while retention trims everything under them', async () => {
    const clock = new ManualClock(Date.now());
    const live = bus.subscribe('test.*');
    const retention = new EventRetention(log, { maxAgeMs: DAY_MS, maxBytes: 0, clock, chunk: 50 });
    const trims: Promise<unknown>[] = [];
    for (let round = 0; round < 10; round++) {
      await publish(300);
      clock.advance(2 * DAY_MS); // everything published so far is now too old
      trims.push(retention.trim());
    }
    await Promise.all(trims);
    await retention.trim();
    expect(log.read({ limit: 10 })).toEqual([]);
    const got = drain(live);
    expect(got.every((d) => d.type === 'event')).toBe(true);
    expect(got.map(seqOf)).toEqual(range(1, 3000));
  });

  it('get the events already queued for them even when trimming passes those too', async () => {
    await publish(10);
    const sub = bus.subscribe('test.*', { since: 0 }); // replays 1..10 from the log, then its queue
    await publish(5); // 11..15: queued in memory
    await log.trimThrough(15);
    const got = drain(sub);
    expect(got[0]).toEqual({ type: 'truncated', oldest_seq: 11, from_seq: 1, to_seq: 10 });
    expect(got.slice(1).map(seqOf)).toEqual(range(11, 15));
  });
});

describe('a pinned subscription', () => {
  it('holds retention back until it has read the log, and is never told truncated', async () => {
    await publish(600);
    const clock = new ManualClock(Date.now() + 30 * DAY_MS); // every event is too old
    const retention = new EventRetention(log, { maxAgeMs: DAY_MS, maxBytes: 0, clock, hold: () => bus.heldSeq() });
    const pinned = bus.subscribe('test.*', { since: 0, pin: true });

    expect(await retention.trim()).toMatchObject({ removed: 0, held_at: 0 });
    const first = drain(pinned, 300);
    expect(first.map(seqOf)).toEqual(range(1, 300));
    // Read from the log up to 512 (its second page); events past that are still needed.
    const held = await retention.trim();
    expect(held.held_at).toBe(bus.heldSeq());
    expect(log.oldestSeq).toBe((held.held_at as number) + 1);
    const rest = drain(pinned);
    expect(rest.map(seqOf)).toEqual(range(301, 600));
    expect(bus.heldSeq()).toBe(Infinity);
    expect(await retention.trim()).toMatchObject({ held_at: null, oldest_seq: 601 });
    expect(pinned.stats().truncated_notices).toBe(0);
  });
});
