import { describe, expect, it } from 'vitest';
import { LocalActor } from '../../src/kernel/local-actor.ts';
import { WorkerActor } from '../../src/kernel/worker-actor.ts';
import { Supervisor, RestartIntensityError, type Strategy } from '../../src/kernel/supervisor.ts';
import { ManualClock } from '../../src/core/clock.ts';
import type { KernelNotice } from '../../src/kernel/actor.ts';
import { recorder, type Msg } from '../fixtures/actors.ts';
import { ACTORS_FIXTURE, waitFor } from './helpers.ts';

interface Notice {
  name: string;
  data: Record<string, unknown>;
}

function recorderNotices(): { notices: Notice[]; notice: KernelNotice } {
  const notices: Notice[] = [];
  return { notices, notice: (name, data) => notices.push({ name, data }) };
}

function children(notice: KernelNotice): LocalActor<Msg, unknown>[] {
  return ['a', 'b', 'c'].map((id) => new LocalActor<Msg, unknown>(id, recorder, notice));
}

async function incarnations(actors: LocalActor<Msg, unknown>[]): Promise<number[]> {
  return Promise.all(actors.map((a) => a.ask({ op: 'incarnation' }) as Promise<number>));
}

describe('supervisor strategies', () => {
  const cases: [Strategy, number[], string[]][] = [
    // strategy, incarnations of a,b,c after b crashes, children halted (in order)
    ['one_for_one', [1, 2, 1], []],
    ['one_for_all', [2, 2, 2], ['c', 'a']],
    ['rest_for_one', [1, 2, 2], ['c']],
  ];

  it.each(cases)('%s restarts the right children, siblings stopped last-started first', async (strategy, expected, halted) => {
    const { notices, notice } = recorderNotices();
    const [a, b, c] = children(notice) as [LocalActor<Msg, unknown>, LocalActor<Msg, unknown>, LocalActor<Msg, unknown>];
    const sup = new Supervisor('sup', { strategy, maxRestarts: 3, withinMs: 1_000, notice }, [a, b, c]);
    await sup.start();
    expect(await incarnations([a, b, c])).toEqual([1, 1, 1]);

    const crashed = await b.ask({ op: 'throw', kind: 'plain' }).catch((e: unknown) => e);
    expect((crashed as Error).message).toBe('plain failure');
    await waitFor(() => notices.some((n) => n.name === 'xyn.kernel.actor.restarted'), 5_000, 'restart');

    expect(await incarnations([a, b, c])).toEqual(expected);
    const haltedOrder = notices
      .filter((n) => n.name === 'xyn.kernel.actor.stopped' && n.data.reason === 'halted')
      .map((n) => n.data.actor);
    expect(haltedOrder).toEqual(halted);
    expect(sup.recentRestarts).toBe(1);
    await sup.stop();
  });

  it('keeps the mailbox across a restart: messages sent meanwhile are handled by the new incarnation', async () => {
    const { notices, notice } = recorderNotices();
    const [a] = children(notice) as [LocalActor<Msg, unknown>];
    const sup = new Supervisor('sup', { strategy: 'one_for_one', maxRestarts: 3, withinMs: 1_000, notice }, [a]);
    await sup.start();
    const crash = a.ask({ op: 'throw', kind: 'plain' }).catch(() => 'crashed');
    const after = [1, 2, 3].map((i) => a.ask({ op: 'record', from: 'x', i }));
    expect(await crash).toBe('crashed');
    // The new incarnation starts with an empty log and sees all three, in order.
    expect(await Promise.all(after)).toEqual([1, 2, 3]);
    expect(notices.filter((n) => n.name === 'xyn.kernel.actor.crashed')).toHaveLength(1);
    await sup.stop();
  });
});

describe('restart intensity', () => {
  it('gives up after maxRestarts within the window and escalates to the parent, which restarts the subtree', async () => {
    const clock = new ManualClock(1_000_000);
    const { notices, notice } = recorderNotices();
    const a = new LocalActor<Msg, unknown>('a', recorder, notice);
    const inner = new Supervisor('inner', { strategy: 'one_for_one', maxRestarts: 2, withinMs: 1_000, clock, notice }, [a]);
    const outer = new Supervisor('outer', { strategy: 'one_for_one', maxRestarts: 5, withinMs: 1_000, clock, notice }, [inner]);
    await outer.start();

    for (let i = 1; i <= 2; i++) {
      await a.ask({ op: 'throw', kind: 'plain' }).catch(() => undefined);
      await waitFor(() => notices.filter((n) => n.name === 'xyn.kernel.actor.restarted').length === i, 5_000, `restart ${i}`);
      clock.advance(100);
    }
    expect(notices.some((n) => n.name === 'xyn.kernel.supervisor.escalated')).toBe(false);

    // Third crash within the window: inner gives up, outer restarts inner (and so a).
    await a.ask({ op: 'throw', kind: 'plain' }).catch(() => undefined);
    await waitFor(() => notices.some((n) => n.name === 'xyn.kernel.supervisor.escalated'), 5_000, 'escalation');
    const escalated = notices.find((n) => n.name === 'xyn.kernel.supervisor.escalated');
    expect(escalated?.data.supervisor).toBe('inner');
    expect(String(escalated?.data.error)).toContain('gave up after 2 restarts within 1000 ms');
    await waitFor(
      () => notices.some((n) => n.name === 'xyn.kernel.actor.restarted' && n.data.supervisor === 'outer'),
      5_000,
      'outer restart',
    );
    expect(await a.ask({ op: 'incarnation' })).toBe(4);
    await outer.stop();
  });

  it('forgets restarts older than the window', async () => {
    const clock = new ManualClock(0);
    const { notices, notice } = recorderNotices();
    const a = new LocalActor<Msg, unknown>('a', recorder, notice);
    const sup = new Supervisor('sup', { strategy: 'one_for_one', maxRestarts: 1, withinMs: 1_000, clock, notice }, [a]);
    const failures: Error[] = [];
    sup.onCrash((e) => failures.push(e));
    await sup.start();
    for (let i = 1; i <= 4; i++) {
      await a.ask({ op: 'throw', kind: 'plain' }).catch(() => undefined);
      await waitFor(() => notices.filter((n) => n.name === 'xyn.kernel.actor.restarted').length === i, 5_000, `restart ${i}`);
      clock.advance(1_001);
    }
    expect(failures).toHaveLength(0);
    // Two crashes inside one window: the supervisor gives up and reports why.
    await a.ask({ op: 'throw', kind: 'plain' }).catch(() => undefined);
    await waitFor(() => notices.filter((n) => n.name === 'xyn.kernel.actor.restarted').length === 5, 5_000, 'restart 5');
    await a.ask({ op: 'throw', kind: 'plain' }).catch(() => undefined);
    await waitFor(() => failures.length === 1, 5_000, 'give up');
    expect(failures[0]).toBeInstanceOf(RestartIntensityError);
    await sup.stop();
  });
});

describe('worker-thread children', () => {
  it('a thread killed mid-batch is replaced and every in-flight message is still answered', async () => {
    const { notices, notice } = recorderNotices();
    const actor = new WorkerActor<Msg, unknown>('w', { module: ACTORS_FIXTURE, export: 'recorder', notice });
    const sup = new Supervisor('sup', { strategy: 'one_for_one', maxRestarts: 3, withinMs: 10_000, notice }, [actor]);
    await sup.start();
    const firstThread = actor.threadId;

    const replies = Array.from({ length: 200 }, (_, i) => actor.ask({ op: 'sleep', ms: 2, tag: `m${i}` }, { timeoutMs: 20_000 }));
    await waitFor(() => actor.inFlight < 180, 5_000, 'some progress');
    const inFlightAtKill = actor.inFlight;
    expect(inFlightAtKill).toBeGreaterThan(0);
    await actor.killThread();

    expect(await Promise.all(replies)).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`));
    const crash = notices.find((n) => n.name === 'xyn.kernel.actor.crashed');
    expect(crash?.data.in_flight).toBeGreaterThan(0);
    expect(notices.some((n) => n.name === 'xyn.kernel.actor.restarted')).toBe(true);
    expect(actor.threadId).not.toBe(firstThread);
    expect(await actor.ask({ op: 'incarnation' })).toBe(2);
    await sup.stop();
  });

  it('a handler that throws in the thread crashes the incarnation; the supervisor restarts it', async () => {
    const { notices, notice } = recorderNotices();
    const actor = new WorkerActor<Msg, unknown>('w', { module: ACTORS_FIXTURE, export: 'recorder', notice });
    const sup = new Supervisor('sup', { strategy: 'one_for_one', maxRestarts: 3, withinMs: 10_000, notice }, [actor]);
    await sup.start();
    const err = await actor.ask({ op: 'throw', kind: 'validation' }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('ValidationError');
    expect(await actor.ask({ op: 'incarnation' })).toBe(2);
    expect(notices.filter((n) => n.name === 'xyn.kernel.actor.crashed')).toHaveLength(1);
    await sup.stop();
  });
});
