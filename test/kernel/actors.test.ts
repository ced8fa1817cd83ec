import { afterEach, describe, expect, it } from 'vitest';
import { LocalActor } from '../../src/kernel/local-actor.ts';
import { WorkerActor } from '../../src/kernel/worker-actor.ts';
import { ActorStoppedError, ActorTimeoutError, type ActorRef, type Supervisable } from '../../src/kernel/actor.ts';
import { ValidationError, RemoteError } from '../../src/core/errors.ts';
import { recorder, QuotaExceededError, type Msg } from '../fixtures/actors.ts';
import { ACTORS_FIXTURE } from './helpers.ts';

type Actor = ActorRef<Msg, unknown> & Supervisable;
const started: Actor[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((a) => a.stop()));
});

const kinds: [string, (id: string) => Actor][] = [
  ['local', (id) => new LocalActor<Msg, unknown>(id, recorder)],
  ['worker thread', (id) => new WorkerActor<Msg, unknown>(id, { module: ACTORS_FIXTURE, export: 'recorder' })],
];

async function start(make: (id: string) => Actor, id = 'a'): Promise<Actor> {
  const actor = make(id);
  await actor.start();
  started.push(actor);
  return actor;
}

describe.each(kinds)('%s actor', (_kind, make) => {
  it('answers ask and keeps message order per sender, one message at a time', async () => {
    const actor = await start(make);
    expect(await actor.ask({ op: 'echo', value: { nested: [1, 'two'] } })).toEqual({ nested: [1, 'two'] });
    // Three senders interleave; some messages take a while (the handler awaits).
    const senders = ['s1', 's2', 's3'];
    for (let i = 0; i < 300; i++) {
      for (const from of senders) actor.send({ op: 'record', from, i, ...(i % 50 === 0 ? { delayMs: 2 } : {}) });
    }
    const { seen } = (await actor.ask({ op: 'log' }, { timeoutMs: 20_000 })) as { seen: { from: string; i: number }[] };
    expect(seen).toHaveLength(900);
    for (const from of senders) {
      const order = seen.filter((s) => s.from === from).map((s) => s.i);
      expect(order).toEqual([...Array(300).keys()]);
    }
    // Arrival order across senders is kept too (one mailbox).
    expect(seen.slice(0, 6).map((s) => s.from)).toEqual(['s1', 's2', 's3', 's1', 's2', 's3']);
  });

  it('rejects an ask that is not answered in time', async () => {
    const actor = await start(make);
    const err = await actor.ask({ op: 'sleep', ms: 300 }, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActorTimeoutError);
    expect((err as ActorTimeoutError).ms).toBe(50);
    // The actor is still fine afterwards.
    expect(await actor.ask({ op: 'echo', value: 1 })).toBe(1);
  });

  it('rebuilds thrown errors as their own classes with their fields', async () => {
    const cases: [Msg & { op: 'throw' }, (e: unknown) => void][] = [
      [{ op: 'throw', kind: 'validation' }, (e) => {
        expect(e).toBeInstanceOf(ValidationError);
        expect((e as ValidationError).field).toBe('limit');
        expect((e as ValidationError).code).toBe('VALIDATION');
      }],
      [{ op: 'throw', kind: 'custom' }, (e) => {
        expect(e).toBeInstanceOf(QuotaExceededError);
        expect((e as QuotaExceededError).tenant).toBe('acme');
        expect((e as QuotaExceededError).limit).toBe(10);
        expect((e as Error).message).toBe('tenant acme is over its quota of 10');
      }],
      [{ op: 'throw', kind: 'type' }, (e) => {
        expect(e).toBeInstanceOf(TypeError);
        expect((e as Error).message).toBe('not a function');
      }],
      [{ op: 'throw', kind: 'plain' }, (e) => {
        expect(e).toBeInstanceOf(Error);
        expect((e as Error).message).toBe('plain failure');
      }],
      [{ op: 'throw', kind: 'string' }, (e) => {
        expect(e).toBeInstanceOf(Error);
        expect((e as Error).message).toContain('a bare string');
      }],
    ];
    for (const [msg, check] of cases) {
      // Each throw crashes the (unsupervised) incarnation, so use a fresh actor per case.
      const actor = await start(make, `thrower-${msg.kind}`);
      check(await actor.ask(msg).catch((e: unknown) => e));
    }
  });

  it('refuses messages once stopped, and settles waiting asks', async () => {
    const actor = await start(make);
    const waiting = actor.ask({ op: 'sleep', ms: 200 }, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    const queued = actor.ask({ op: 'echo', value: 'never' }, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    await actor.stop();
    expect(await queued).toBeInstanceOf(ActorStoppedError);
    const first = await waiting;
    // The message in progress either finished or was cut off by the stop.
    expect(first === null || first instanceof ActorStoppedError).toBe(true);
    expect(() => actor.send({ op: 'echo', value: 1 })).toThrow(ActorStoppedError);
  });
});

describe('errors from an unknown class', () => {
  it('arrive as RemoteError carrying the remote name and code', async () => {
    const { deserializeError } = await import('../../src/core/errors.ts');
    const err = deserializeError({ name: 'MysteryError', message: 'boom', code: 'MYSTERY', details: { x: 1 } });
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).details).toMatchObject({ remote_name: 'MysteryError', remote_code: 'MYSTERY', x: 1 });
  });
});
