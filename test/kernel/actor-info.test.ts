/**
 * What each kind of actor says of itself in the supervision tree (`info()`):
 * state, mailbox depth, messages handled across incarnations, restarts, and
 * since when its incarnation runs — a supervisor with its children's, the
 * pool with one node per thread slot. Real actors, threads and a real bus.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ActorInfo, KernelNotice } from '../../src/kernel/actor.ts';
import { LocalActor } from '../../src/kernel/local-actor.ts';
import { WorkerActor } from '../../src/kernel/worker-actor.ts';
import { TopicActor } from '../../src/kernel/topic-actor.ts';
import { Supervisor } from '../../src/kernel/supervisor.ts';
import { WorkerPool } from '../../src/kernel/worker-pool.ts';
import { recorder, type Msg } from '../fixtures/actors.ts';
import { ACTORS_FIXTURE, FUNCTIONS_FIXTURE, busOnLogPerTest, waitFor } from './helpers.ts';
import { serve } from '../helpers/test-server.ts';

function restartsSeen(): { notice: KernelNotice; restarted: () => number } {
  let n = 0;
  const notice: KernelNotice = (name) => {
    if (name === 'xyn.kernel.actor.restarted') n++;
  };
  return { notice, restarted: () => n };
}

const options = { strategy: 'one_for_one' as const, maxRestarts: 3, withinMs: 10_000 };

describe('a supervisor and its children', () => {
  it('a child that crashed once: one restart, every message counted across incarnations, running again', async () => {
    const { notice, restarted } = restartsSeen();
    const a = new LocalActor<Msg, unknown>('a', recorder, notice);
    const sup = new Supervisor('sup', { ...options, notice }, [a]);
    expect(sup.info()).toEqual({ name: 'sup', kind: 'supervisor', state: 'new', mailbox: 0, handled: 0, restarts: 0, started_at: null, children: [{ name: 'a', kind: 'local', state: 'new', mailbox: 0, handled: 0, restarts: 0, started_at: null }] });

    const before = Date.now();
    await sup.start();
    await a.ask({ op: 'record', from: 'x', i: 1 });
    await a.ask({ op: 'throw', kind: 'plain' }).catch(() => undefined);
    await waitFor(() => restarted() === 1, 5_000, 'the restart');
    await a.ask({ op: 'record', from: 'x', i: 2 });

    const info = sup.info();
    expect(info).toMatchObject({ name: 'sup', kind: 'supervisor', state: 'running', mailbox: 0, handled: 1, restarts: 1 });
    const [child] = info.children as [ActorInfo];
    expect(child).toMatchObject({ name: 'a', kind: 'local', state: 'running', mailbox: 0, handled: 3, restarts: 1 });
    // The child's current incarnation started after the supervisor did (it is the restarted one).
    expect(info.started_at).toBeGreaterThanOrEqual(before);
    expect(child.started_at).toBeGreaterThanOrEqual(info.started_at as number);

    await sup.stop();
    expect(sup.info()).toMatchObject({ state: 'stopped', started_at: null, restarts: 1, children: [{ state: 'stopped', started_at: null, handled: 3 }] });
  });

  it('mailbox: the messages waiting behind the one being handled', async () => {
    const a = new LocalActor<Msg, unknown>('a', recorder);
    await a.start();
    const replies = [a.ask({ op: 'sleep', ms: 50 }), ...[1, 2, 3].map((i) => a.ask({ op: 'record', from: 'x', i }))];
    expect(a.info()).toMatchObject({ state: 'running', mailbox: 3, handled: 0 });
    await Promise.all(replies);
    expect(a.info()).toMatchObject({ mailbox: 0, handled: 4 });
    await a.stop();
  });

  it('nests: a supervisor under a supervisor, children in order; halted by a sibling restart, then running again', async () => {
    const { notice, restarted } = restartsSeen();
    const [a, b] = ['a', 'b'].map((id) => new LocalActor<Msg, unknown>(id, recorder, notice)) as [LocalActor<Msg, unknown>, LocalActor<Msg, unknown>];
    const inner = new Supervisor('inner', { ...options, strategy: 'one_for_all', notice }, [a, b]);
    const outer = new Supervisor('outer', { ...options, notice }, [inner]);
    await outer.start();
    await b.ask({ op: 'throw', kind: 'plain' }).catch(() => undefined);
    await waitFor(() => restarted() === 1, 5_000, 'the restart');
    const info = outer.info();
    expect(info).toMatchObject({ name: 'outer', restarts: 0, handled: 0, children: [{ name: 'inner', kind: 'supervisor', state: 'running', restarts: 1, handled: 1 }] });
    // one_for_all: a did not crash but was restarted with b.
    expect((info.children?.[0] as ActorInfo).children?.map((c) => [c.name, c.state, c.restarts])).toEqual([
      ['a', 'running', 1],
      ['b', 'running', 1],
    ]);
    await outer.stop();
  });
});

describe('a worker-thread actor', () => {
  it('counts what its threads answered, across a thread that crashed', async () => {
    const { notice, restarted } = restartsSeen();
    const w = new WorkerActor<Msg, unknown>('w', { module: ACTORS_FIXTURE, export: 'recorder', notice });
    const sup = new Supervisor('sup', { ...options, notice }, [w]);
    await sup.start();
    await Promise.all([1, 2].map((i) => w.ask({ op: 'record', from: 'x', i })));
    await w.ask({ op: 'throw', kind: 'plain' }).catch(() => undefined);
    await waitFor(() => restarted() === 1, 5_000, 'the restart');
    await w.ask({ op: 'incarnation' });
    expect(w.info()).toMatchObject({ name: 'w', kind: 'worker', state: 'running', mailbox: 0, handled: 4, restarts: 1, started_at: expect.any(Number) });
    await sup.stop();
    expect(w.info()).toMatchObject({ state: 'stopped', started_at: null });
  });
});

describe('a topic actor', () => {
  const t = busOnLogPerTest();

  it('counts the events it handled; one that throws crashes it, and its restart goes on after it', async () => {
    const { notice, restarted } = restartsSeen();
    const seen: number[] = [];
    const actor = new TopicActor('watch', t.bus, ['app.>'], ([e]) => {
      if (e?.data.bad) throw new Error('bad event');
      seen.push(e?.data.n as number);
    });
    const sup = new Supervisor('sup', { ...options, notice }, [actor]);
    await sup.start();
    expect(actor.info()).toMatchObject({ name: 'watch', kind: 'topic', state: 'running', mailbox: 0, handled: 0, restarts: 0 });
    await t.bus.publish('app.x', { n: 1 });
    await t.bus.publish('app.x', { bad: true });
    await waitFor(() => restarted() === 1, 5_000, 'the restart');
    await t.bus.publish('app.x', { n: 2 });
    await waitFor(() => seen.length === 2, 5_000, 'the event after the restart');
    expect(actor.info()).toMatchObject({ state: 'running', mailbox: 0, handled: 2, restarts: 1 });
    await sup.stop();
    expect(actor.info()).toMatchObject({ state: 'stopped', started_at: null });
  });
});

describe('the shard-worker pool', () => {
  const pools: WorkerPool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });

  it('one node per thread slot: tasks each completed, a killed thread replaced in its slot', async () => {
    const pool = new WorkerPool({ size: 2 });
    pools.push(pool);
    const threads = () => pool.info().children ?? [];
    await waitFor(() => threads().length === 2, 5_000, 'both threads up');
    expect(pool.info()).toMatchObject({ name: 'pool', kind: 'pool', state: 'running', mailbox: 0, handled: 0, restarts: 0 });
    expect(threads().map((c) => [c.name, c.kind, c.state, c.mailbox, c.handled, c.restarts])).toEqual([
      ['thread:0', 'shard-worker', 'idle', 0, 0, 0],
      ['thread:1', 'shard-worker', 'idle', 0, 0, 0],
    ]);

    await Promise.all(Array.from({ length: 6 }, (_, n) => pool.run(FUNCTIONS_FIXTURE, 'slowDouble', [{ n, ms: 1 }])));
    expect(pool.info().handled).toBe(6);
    expect(threads().reduce((sum, c) => sum + c.handled, 0)).toBe(6);

    // A task on thread:0 while it runs: busy, with it on its mailbox.
    const first = pool.threads[0] as { threadId: number; terminate(): Promise<number> };
    // Held until the test has seen it running: its thread answers only once the server does.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const server = await serve((_req, res) => void released.then(() => res.end('ok')));
    try {
      const running = pool.run(FUNCTIONS_FIXTURE, 'heldDouble', [{ n: 1, url: server.url }]);
      await waitFor(() => threads().some((c) => c.state === 'busy' && c.mailbox === 1), 5_000, 'a busy thread');
      release();
      await running;
    } finally {
      release();
      await server.close();
    }

    const handledBefore = threads().map((c) => c.handled);
    await first.terminate();
    await waitFor(() => pool.info().restarts === 1 && threads().every((c) => c.state === 'idle'), 5_000, 'the replacement');
    const after = threads();
    expect(after).toHaveLength(2);
    // The dead thread's slot got the new one: one restart there, its count kept.
    expect(after.map((c) => c.restarts).sort()).toEqual([0, 1]);
    expect(after.map((c) => c.handled)).toEqual(handledBefore);

    await (pools.pop() as WorkerPool).close();
    expect(pool.info()).toMatchObject({ state: 'stopped', started_at: null });
    expect(threads().map((c) => c.state)).toEqual(['stopped', 'stopped']);
  });
});
