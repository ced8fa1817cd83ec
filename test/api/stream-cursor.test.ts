/**
 * Stream subscriptions as positions in a real LMDB event log (no server):
 * every event once and in order from a cache far smaller than the log,
 * each event encoded once for any number of subscriptions, packed items
 * read back as the arrays a live reader sees, the scan budget of a narrow
 * subscription, retention trimming under a `since` subscription
 * (truncated) and under a live one (lagged), and a live one that falls
 * behind (lagged, with the count of what it skipped).
 */
import { describe, expect, it } from 'vitest';
import type { EventLog } from '../../src/store/event-log.ts';
import type { Bus } from '../../src/kernel/bus.ts';
import { HexItems, readableEvent } from '../../src/core/hex-items.ts';
import { decode } from '../../src/core/codec.ts';
import { EventFrames } from '../../src/api/event-frames.ts';
import { LIVE_WINDOW, StreamCursor, type Step } from '../../src/api/stream-cursor.ts';
import { busOnLogPerTest } from '../kernel/helpers.ts';

let log: EventLog;
let bus: Bus;
busOnLogPerTest((t) => ({ log, bus } = t));

const everyone = () => true;

async function publish(name: string, count: number, data: (i: number) => Record<string, unknown> = (i) => ({ n: i })): Promise<void> {
  for (let i = 0; i < count; i += 1000) await Promise.all(Array.from({ length: Math.min(1000, count - i) }, (_, k) => bus.publish(name, data(i + k))));
}

/** Steps until `cursor` is caught up with the bus, as a client with room in its socket would. */
function drain(cursor: StreamCursor, frames: EventFrames, codec: 'json' | 'msgpack' = 'json'): Step[] {
  const steps: Step[] = [];
  while (cursor.behind(bus.lastSeq)) {
    const step = cursor.next(bus.lastSeq, frames, codec);
    if (step) steps.push(step);
  }
  return steps;
}

const seqsOf = (steps: Step[]) => steps.flatMap((s) => (s.type === 'event' ? [s.seq] : []));
const jsonOf = (s: Step) => (s.type === 'event' ? (JSON.parse(s.json as string) as { seq: number; event_name: string; data: Record<string, unknown> }) : undefined);

describe('a stream subscription', () => {
  it('reads a log many times its cache, every event once and in order, the cache never over its bytes', async () => {
    await publish('big.x', 5000, (i) => ({ n: i, pad: 'x'.repeat(200) }));
    const frames = new EventFrames(log, 64 * 1024);
    const cursor = new StreamCursor(1, ['big.*'], false, 0, everyone);
    const seqs: number[] = [];
    while (cursor.behind(bus.lastSeq)) {
      const step = cursor.next(bus.lastSeq, frames, 'json');
      if (step?.type === 'event') seqs.push(jsonOf(step)?.data.n as number);
      expect(frames.stats().bytes).toBeLessThanOrEqual(64 * 1024);
    }
    expect(seqs).toEqual([...Array(5000).keys()]);
    expect(frames.stats().pages).toBeGreaterThanOrEqual(5000 / 64);
  });

  it('32 subscriptions taking turns over the same events encode each event once, and share its bytes', async () => {
    await publish('share.x', 1000);
    const frames = new EventFrames(log, 32 * 1024 * 1024);
    const cursors = Array.from({ length: 32 }, (_, i) => new StreamCursor(i + 1, ['>'], false, 0, everyone));
    const got = cursors.map(() => [] as (string | Uint8Array)[]);
    for (let progressed = true; progressed; ) {
      progressed = false;
      cursors.forEach((c, i) => {
        const step = c.next(bus.lastSeq, frames, 'json');
        if (step?.type === 'event') (got[i] as (string | Uint8Array)[]).push(step.json as string);
        progressed ||= step !== undefined;
      });
    }
    expect(got.every((bytes) => bytes.length === 1000)).toBe(true);
    expect(frames.stats().encoded).toBe(1000);
    expect(got[31]?.[500]).toBe(got[0]?.[500]); // the same string, not a copy
  });

  it('reads packed items back as the arrays a live reader sees, in JSON and msgpack', async () => {
    const items = new HexItems(3, [
      { name: 'cas_id', bytes: 8, data: Uint8Array.from({ length: 24 }, (_, i) => i) },
      { name: 'output_digest', bytes: 32, data: new Uint8Array(96).fill(0xab) },
    ]);
    const published = await bus.publish('hxo.shard.done', { plan_id: 'p', count: 3, items });
    const frames = new EventFrames(log, 1024 * 1024);
    const [json] = drain(new StreamCursor(1, ['hxo.>'], false, 0, everyone), frames);
    const [pack] = drain(new StreamCursor(2, ['hxo.>'], false, 0, everyone), frames, 'msgpack');
    const readable = readableEvent(published);
    expect(jsonOf(json as Step)).toEqual(JSON.parse(JSON.stringify(readable)));
    expect(decode((pack as Step & { type: 'event' }).msgpack as Uint8Array)).toEqual(readable);
    expect((readable.data.items as unknown[])[0]).toEqual({ cas_id: '0001020304050607', output_digest: 'ab'.repeat(32) });
  });

  it('writes a bigint in an event (msgpack carries them, JSON cannot) as its decimal string', async () => {
    await bus.publish('big.int', { n: 2n ** 60n + 1n });
    const [step] = drain(new StreamCursor(1, ['big.int'], false, 0, everyone), new EventFrames(log, 1024 * 1024));
    expect(jsonOf(step as Step)?.data.n).toBe('1152921504606846977');
  });

  it('passes over what its client may not see, as it does other topics', async () => {
    await publish('hxo.audit', 3);
    await publish('hxo.plan', 2);
    const steps = drain(new StreamCursor(1, ['hxo.>'], false, 0, (name) => name !== 'hxo.audit'), new EventFrames(log, 1024 * 1024));
    expect(steps.map((s) => jsonOf(s)?.event_name)).toEqual(['hxo.plan', 'hxo.plan']);
  });

  it('a narrow subscription over a long history looks at a bounded number of events per step', async () => {
    await publish('noise.x', 10_000);
    await publish('rare.x', 1);
    const frames = new EventFrames(log, 32 * 1024 * 1024);
    const cursor = new StreamCursor(1, ['rare.*'], false, 0, everyone);
    expect(cursor.next(bus.lastSeq, frames, 'json')).toBeUndefined();
    expect(cursor.behind(bus.lastSeq)).toBe(true);
    expect(frames.stats().pages).toBe(1);
    const steps = drain(cursor, frames);
    expect(steps.map((s) => jsonOf(s)?.event_name)).toEqual(['rare.x']);
    // The events it passed over were never encoded: only their names were kept.
    expect(frames.stats().encoded).toBe(1);
  });

  it('told `truncated` when retention trimmed what a `since` subscription had not read, then goes on from the oldest kept', async () => {
    await publish('trim.x', 100);
    const frames = new EventFrames(log, 1024 * 1024);
    // Another subscription read them all: the trimmed ones are still in the cache, and still not delivered.
    expect(seqsOf(drain(new StreamCursor(1, ['trim.*'], false, 0, everyone), frames))).toHaveLength(100);
    const reader = new StreamCursor(2, ['trim.*'], false, 10, everyone);
    await log.trimThrough(40);
    const steps = drain(reader, frames);
    expect(steps[0]).toEqual({ type: 'truncated', oldest_seq: 41, from_seq: 11, to_seq: 40 });
    expect(seqsOf(steps.slice(1))).toEqual(Array.from({ length: 60 }, (_, i) => 41 + i));
  });

  it('a live subscription whose client does not read skips what falls LIVE_WINDOW behind, and says how many it skipped', async () => {
    const frames = new EventFrames(log, 1024 * 1024);
    const stopWatching = bus.onAppended((events) => frames.appended(events, () => []));
    const cursor = new StreamCursor(1, ['live.a'], true, bus.lastSeq, everyone);
    // Every other event is its topic; its client is stalled while 3 windows' worth are appended.
    await publish('live.b', 1);
    for (let i = 0; i < 3 * LIVE_WINDOW; i++) void bus.publish(i % 2 ? 'live.b' : 'live.a', { n: i });
    await bus.flushed();
    cursor.keepUp(bus.lastSeq, frames);
    stopWatching();
    const steps = drain(cursor, frames);
    const lagged = steps[0] as Step & { type: 'lagged' };
    expect(lagged.type).toBe('lagged');
    const delivered = steps.slice(1).map((s) => jsonOf(s)?.data.n as number);
    expect(lagged.skipped + delivered.length).toBe(3 * LIVE_WINDOW / 2);
    expect(delivered).toEqual(Array.from({ length: delivered.length }, (_, k) => 3 * LIVE_WINDOW - 2 * delivered.length + 2 * k));
    expect(delivered.length).toBe(LIVE_WINDOW / 2);
    expect(lagged.to_seq).toBeLessThan(bus.lastSeq - LIVE_WINDOW + 1);
  });

  it('a live subscription is told `lagged`, never `truncated`, when retention trims what it had not read', async () => {
    const frames = new EventFrames(log, 1024 * 1024);
    const stopWatching = bus.onAppended((events) => frames.appended(events, () => []));
    const cursor = new StreamCursor(1, ['gone.*'], true, bus.lastSeq, everyone);
    await publish('gone.x', 50);
    stopWatching();
    await log.trimThrough(30);
    const steps = drain(cursor, frames);
    expect(steps[0]).toEqual({ type: 'lagged', skipped: 30, from_seq: 1, to_seq: 30 });
    expect(seqsOf(steps.slice(1))).toEqual(Array.from({ length: 20 }, (_, i) => 31 + i));
  });
});
