import { describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/env.ts';
import { EventLog } from '../../src/store/event-log.ts';
import { Bus } from '../../src/kernel/bus.ts';
import type { Subscription, Delivery } from '../../src/kernel/subscription.ts';
import type { XynEvent } from '../../src/core/event.ts';
import { EventBatcher } from '../../src/kernel/event-batcher.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { ValidationError } from '../../src/core/errors.ts';
import { HexItems } from '../../src/core/hex-items.ts';
import { busOnLogPerTest } from './helpers.ts';

let store: Store;
let bus: Bus;
const t = busOnLogPerTest((fresh) => ({ store, bus } = fresh));

/** Reads deliveries until `done` says stop; fails if it takes too long. */
async function collect(sub: Subscription, done: (events: XynEvent[]) => boolean, timeoutMs = 20_000): Promise<{ events: XynEvent[]; lagged: Delivery[] }> {
  const events: XynEvent[] = [];
  const lagged: Delivery[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!done(events)) {
    if (Date.now() > deadline) throw new Error(`collected ${events.length} events before timing out`);
    const d = await Promise.race([sub.next(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 50))]);
    if (!d) continue;
    if (d.type === 'event') events.push(d.event);
    else lagged.push(d);
  }
  return { events, lagged };
}

describe('publish and subscribe', () => {
  it('delivers matching events in seq order with the full envelope', async () => {
    const shards = bus.subscribe('hxo.shard.*');
    const all = bus.subscribe('>');
    await bus.publish('hxo.plan', { plan_id: 'p1', plan_name: 'x', stages: 1, submitted_by: 'kyle' }, { actor: 'kyle', correlation_id: 'c-1' });
    await bus.publish('hxo.shard.created', { plan_id: 'p1', stage_id: 's', cas_id: 'abcd', phase: 'pending' });
    await bus.publish('hxo.shard.done', { plan_id: 'p1', stage_id: 's', cas_id: 'abcd', output_digest: 'ff' });

    const got = await collect(shards, (e) => e.length === 2);
    expect(got.events.map((e) => e.event_name)).toEqual(['hxo.shard.created', 'hxo.shard.done']);
    const everything = await collect(all, (e) => e.length === 3);
    const plan = everything.events[0] as XynEvent;
    expect(plan).toMatchObject({ event_name: 'hxo.plan', actor: 'kyle', correlation_id: 'c-1', run_id: null, step_id: null, resource: null, env_id: 'local', seq: 1 });
    expect(plan.event_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(plan.occurred_at).toISOString()).toBe(plan.occurred_at);
    expect(everything.events.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('subscribes to several patterns at once and delivers each event once', async () => {
    const sub = bus.subscribe(['hxo.shard.*', 'hxo.shard.done', 'xyn.>']);
    for (const name of ['hxo.shard.done', 'hxo.plan', 'xyn.run.started', 'hxo.shard.failed']) await bus.publish(name, {});
    const { events } = await collect(sub, (e) => e.length === 3);
    expect(events.map((e) => e.event_name)).toEqual(['hxo.shard.done', 'xyn.run.started', 'hxo.shard.failed']);
    expect(sub.poll()).toBeUndefined();
  });

  it('filters on data fields, live and in history (seed 000 monitoring queries)', async () => {
    const sub = bus.subscribe('hxo.shard.*', { filter: { plan_id: 'abc-123' } });
    await bus.publish('hxo.shard.done', { plan_id: 'other', cas_id: '1' });
    await bus.publish('hxo.shard.done', { plan_id: 'abc-123', cas_id: '2' });
    await bus.publish('hxo.audit', { user: 'kyle', operation: 'plan.submit' });
    await bus.publish('hxo.audit', { user: 'ana', operation: 'plan.abort' });
    const { events } = await collect(sub, (e) => e.length === 1);
    expect(events[0]?.data.cas_id).toBe('2');
    expect(bus.queryHistory({ topic: 'hxo.shard.*', filter: { plan_id: 'abc-123' } }).map((e) => e.data.cas_id)).toEqual(['2']);
    expect(bus.queryHistory({ topic: 'hxo.audit', filter: { user: 'kyle' } }).map((e) => e.data.operation)).toEqual(['plan.submit']);
    expect(bus.queryHistory({ since: 2, limit: 1 }).map((e) => e.seq)).toEqual([3]);
  });

  it('refuses bad topics, patterns and options with a ValidationError', () => {
    expect(() => bus.publish('hxo.*', {})).toThrow(ValidationError);
    expect(() => bus.subscribe('a..b')).toThrow(ValidationError);
    expect(() => bus.subscribe([])).toThrow(ValidationError);
    expect(() => bus.subscribe('a', { since: -1 })).toThrow(/since/);
    expect(() => bus.subscribe('a', { queueSize: 0 })).toThrow(/queueSize/);
  });

  it('keeps events and seq across a restart of the log', async () => {
    await bus.publish('a.b', { n: 1 });
    await bus.publish('a.b', { n: 2 });
    await bus.close();
    await store.close();
    t.store = store = openStore({ path: t.dir.path });
    t.bus = bus = new Bus({ log: new EventLog(store) });
    expect(bus.lastSeq).toBe(2);
    const e = await bus.publish('a.b', { n: 3 });
    expect(e.seq).toBe(3);
    expect(bus.queryHistory({ topic: 'a.b' }).map((x) => x.data.n)).toEqual([1, 2, 3]);
  });
});

describe('since: history joins live with no gap and no duplicate', () => {
  /** Publishes `total` events in irregular bursts, never awaiting each one. */
  async function publishConcurrently(total: number): Promise<void> {
    const inflight: Promise<unknown>[] = [];
    let n = 0;
    while (n < total) {
      const burst = 1 + Math.floor(Math.random() * 200);
      for (let i = 0; i < burst && n < total; i++, n++) inflight.push(bus.publish('load.tick', { n }));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(inflight);
  }

  it.each([
    ['a roomy queue', 100_000],
    ['a tiny queue (catch-up overflows into the log)', 8],
  ])('with %s', async (_name, queueSize) => {
    const total = 10_000;
    const publishing = publishConcurrently(total);
    const subs: { since: number; sub: Subscription }[] = [];
    // Join at several moments while publishing goes on, from several points in history.
    for (let k = 0; k < 4; k++) {
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
      const since = Math.floor(Math.random() * bus.lastSeq);
      subs.push({ since, sub: bus.subscribe('load.*', { since, queueSize }) });
    }
    await publishing;
    for (const { since, sub } of subs) {
      const { events, lagged } = await collect(sub, (e) => (e.at(-1)?.seq ?? since) >= total);
      expect(lagged).toEqual([]);
      const seqs = events.map((e) => e.seq);
      expect(seqs.length).toBe(total - since);
      expect(seqs[0]).toBe(since + 1);
      expect(seqs.every((s, i) => i === 0 || s === (seqs[i - 1] as number) + 1)).toBe(true);
      expect(events.map((e) => e.data.n)).toEqual(seqs.map((s) => s - 1));
    }
  });
});

describe('a slow subscriber', () => {
  it('is lagged (told what it missed) and slows neither the publisher nor other subscribers', async () => {
    const fast = bus.subscribe('t.*', { queueSize: 100_000 });
    const slow = bus.subscribe('t.*', { queueSize: 100 });
    const total = 5_000;
    const fastSeen: number[] = [];
    const draining = (async () => {
      while (fastSeen.length < total) {
        const d = await fast.next();
        if (d?.type === 'event') fastSeen.push(d.event.seq);
      }
    })();
    // The slow subscriber never reads while all of this is published and acknowledged.
    await Promise.all(Array.from({ length: total }, (_, n) => bus.publish('t.x', { n })));
    await draining;
    expect(fastSeen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(slow.stats()).toMatchObject({ queued: 100, skipped: total - 100 });

    const first = slow.poll();
    expect(first).toEqual({ type: 'lagged', skipped: total - 100, from_seq: 1, to_seq: total - 100 });
    const rest: number[] = [];
    for (let d = slow.poll(); d; d = slow.poll()) if (d.type === 'event') rest.push(d.event.seq);
    expect(rest).toEqual(Array.from({ length: 100 }, (_, i) => total - 100 + i + 1));
    // What it missed is still in the log.
    expect(bus.queryHistory({ topic: 't.*', since: 0, limit: total - 100 })).toHaveLength(total - 100);
  });

  it("with lag: 'replay' it re-reads from the log and loses nothing, in bounded memory", async () => {
    const sub = bus.subscribe('t.*', { queueSize: 16, lag: 'replay' });
    const total = 3_000;
    await Promise.all(Array.from({ length: total }, (_, n) => bus.publish('t.x', { n })));
    expect(sub.stats().queued).toBeLessThanOrEqual(16);
    const { events, lagged } = await collect(sub, (e) => e.length === total);
    expect(lagged).toEqual([]);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('stops receiving after unsubscribe and its iterator ends', async () => {
    const sub = bus.subscribe('t.*');
    await bus.publish('t.x', {});
    sub.unsubscribe();
    await bus.publish('t.x', {});
    const seen: number[] = [];
    for await (const d of sub) if (d.type === 'event') seen.push(d.event.seq);
    expect(seen).toEqual([1]);
    expect(bus.stats().subscriptions).toBe(0);
  });
});

describe('batched, rate-limited shard events', () => {
  it('groups runs into events of batchSize, keeps created → claimed → done order, and coalesces when rate-limited', async () => {
    const clock = new ManualClock(0);
    const errors: unknown[] = [];
    const batcher = new EventBatcher(bus, { batchSize: 100, maxRate: 5, maxDelayMs: 10_000, clock, onError: (e) => errors.push(e) });
    const common = { plan_id: 'p', stage_id: 's' };
    for (const phase of ['created', 'claimed', 'done']) {
      for (let i = 0; i < 1_000; i++) batcher.add(`hxo.shard.${phase}`, common, { cas_id: `c${i}` });
    }
    // The bucket holds 5 tokens: only 5 events so far, each of 100 items.
    await bus.flushed();
    await new Promise((r) => setTimeout(r, 20));
    expect(batcher.stats().events).toBe(5);
    await batcher.flush();
    expect(errors).toEqual([]);
    const events = bus.queryHistory({ topic: 'hxo.shard.*', limit: 10_000 });
    // Far fewer events than 30 batches of 100: the backlog coalesced.
    expect(events.length).toBeLessThan(30);
    const items = events.flatMap((e) => (e.data.items as { cas_id: string }[]).map((it) => `${e.event_name}:${it.cas_id}`));
    expect(items).toHaveLength(3_000);
    for (const e of events) expect(e.data).toMatchObject({ plan_id: 'p', stage_id: 's', count: (e.data.items as unknown[]).length });
    // Per shard: created before claimed before done.
    const position = new Map(items.map((k, i) => [k, i]));
    for (let i = 0; i < 1_000; i++) {
      const [a, b, c] = ['created', 'claimed', 'done'].map((p) => position.get(`hxo.shard.${p}:c${i}`) as number);
      expect(a).toBeLessThan(b as number);
      expect(b).toBeLessThan(c as number);
    }
  });

  it('packed items (HexItems) coalesce, split and reach live subscribers and the log as the same plain items', async () => {
    const clock = new ManualClock(0);
    const batcher = new EventBatcher(bus, { batchSize: 100, maxRate: 3, maxDelayMs: 10_000, clock, onError: () => {} });
    const live = bus.subscribe('hxo.shard.*');
    const common = { plan_id: 'p', stage_id: 's' };
    const cas = (i: number) => Buffer.alloc(8).fill(i % 256).toString('hex');
    const expected: string[] = [];
    // 12 batches of 250 shards: claimed ids, then done records (every 7th reused).
    for (let b = 0; b < 12; b++) {
      const ids = Buffer.concat(Array.from({ length: 250 }, (_, k) => Buffer.alloc(8).fill((b * 250 + k) % 256)));
      const digests = Buffer.concat(Array.from({ length: 250 }, (_, k) => Buffer.alloc(32).fill((b * 250 + k) % 251)));
      const reused = Uint8Array.from({ length: 250 }, (_, k) => ((b * 250 + k) % 7 === 0 ? 1 : 0));
      batcher.addMany('hxo.shard.claimed', common, new HexItems(250, [{ name: '', bytes: 8, data: ids }]));
      batcher.addMany('hxo.shard.done', common, new HexItems(250, [{ name: 'cas_id', bytes: 8, data: ids }, { name: 'output_digest', bytes: 32, data: digests }], [{ name: 'reused', data: reused }]));
      for (let k = 0; k < 250; k++) expected.push(`claimed:${cas(b * 250 + k)}`);
      for (let k = 0; k < 250; k++) {
        const i = b * 250 + k;
        expected.push(`done:${cas(i)}:${Buffer.alloc(32).fill(i % 251).toString('hex')}${i % 7 === 0 ? ':reused' : ''}`);
      }
    }
    await batcher.flush();
    const flat = (events: XynEvent[]) =>
      events.flatMap((e) => {
        expect(Array.isArray(e.data.items)).toBe(true);
        expect(e.data.count).toBe((e.data.items as unknown[]).length);
        return (e.data.items as (string | { cas_id: string; output_digest: string; reused?: true })[]).map((it) =>
          typeof it === 'string' ? `claimed:${it}` : `done:${it.cas_id}:${it.output_digest}${it.reused ? ':reused' : ''}`,
        );
      });
    const logged = bus.queryHistory({ topic: 'hxo.shard.*', limit: 10_000 });
    expect(flat(logged)).toEqual(expected);
    const { events } = await collect(live, (e) => e.length === logged.length);
    expect(flat(events)).toEqual(expected);
    // Read back by a fresh log on the same store (what `xyn events` does).
    expect(flat(new EventLog(store).read({ limit: 10_000 }).filter((e) => e.event_name.startsWith('hxo.shard.')))).toEqual(expected);
  });

  it("hands each event's item tags to onLogged inside the transaction that appends it, aligned with its items through coalescing and splitting", async () => {
    const clock = new ManualClock(0);
    const calls: number[][] = [];
    const marks = store.db<string, number>('meta');
    // What onLogged writes goes in with the event: readable as soon as the event's publish resolved.
    const batcher = new EventBatcher(bus, {
      batchSize: 100,
      maxRate: 3,
      maxDelayMs: 10_000,
      clock,
      onError: () => {},
      onLogged: (_name, tags) => {
        const given = [...tags].filter((t) => t >= 0);
        calls.push(given);
        for (const t of given) void marks.put(`tag:${t}`, t);
      },
    });
    const common = { plan_id: 'p', stage_id: 's' };
    for (let b = 0; b < 10; b++) {
      const n = 130;
      const ids = Buffer.alloc(8 * n);
      for (let k = 0; k < n; k++) ids.writeUInt32BE(b * n + k, 8 * k + 4);
      // Packed done items, every one tagged with its number; plain failed items, every other one tagged.
      batcher.addMany('hxo.shard.done', common, new HexItems(n, [{ name: 'cas_id', bytes: 8, data: ids }, { name: 'output_digest', bytes: 32, data: Buffer.alloc(32 * n) }]), Array.from({ length: n }, (_, k) => b * n + k));
      batcher.addMany('hxo.shard.failed', common, Array.from({ length: 7 }, (_, k) => ({ cas_id: `f${b * 7 + k}`, final: k % 2 === 0 })), Array.from({ length: 7 }, (_, k) => (k % 2 === 0 ? 1_000_000 + b * 7 + k : -1)));
    }
    await batcher.flush();
    const logged = bus.queryHistory({ topic: 'hxo.shard.*', limit: 10_000 });
    // The tags of each event, from its items: what onLogged must have had, event by event, in log order.
    const expected = logged
      .map((e) =>
        (e.data.items as ({ cas_id: string; final?: boolean } | { cas_id: string; output_digest: string })[]).flatMap((it) => {
          if ('output_digest' in it) return [parseInt(it.cas_id, 16)];
          const f = it as { cas_id: string; final: boolean };
          return f.final ? [1_000_000 + Number(f.cas_id.slice(1))] : [];
        }),
      )
      .filter((tags) => tags.length > 0);
    expect(logged.length).toBeGreaterThan(20);
    expect(calls).toEqual(expected);
    expect(calls.flat()).toHaveLength(10 * 130 + 10 * 4);
    for (const t of calls.flat()) expect(marks.get(`tag:${t}`)).toBe(t);
  });

  it('publishes a partial batch after maxDelayMs', async () => {
    const batcher = new EventBatcher(bus, { batchSize: 100, maxRate: 1000, maxDelayMs: 20, onError: () => {} });
    batcher.add('hxo.shard.done', { plan_id: 'p' }, { cas_id: 'x' });
    const sub = bus.subscribe('hxo.shard.done', { since: 0 });
    const { events } = await collect(sub, (e) => e.length === 1, 2_000);
    expect(events[0]?.data).toMatchObject({ plan_id: 'p', count: 1, items: [{ cas_id: 'x' }] });
  });
});
