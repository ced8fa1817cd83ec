/**
 * Messages/s between two actors across a thread boundary (WorkerActor), with
 * the same two workloads against a LocalActor as the same-thread baseline:
 *
 * - single: one `ask` round trip per iteration (sequential).
 * - batch:  999 `send` + 1 `ask` per iteration; the actor handles its mailbox
 *           in order, so the ask's reply is a barrier for the whole batch.
 */
import type { ActorRef } from '../src/kernel/actor.ts';
import { LocalActor } from '../src/kernel/local-actor.ts';
import { WorkerActor } from '../src/kernel/worker-actor.ts';
import echo from './fixtures/echo-actor.ts';
import { runSuite, type BenchRow, type TaskSpec } from './lib.ts';

const BATCH = 1_000;
const ASK = { timeoutMs: 30_000 };
const MESSAGE = { kind: 'ping', n: 42 };

function single(actor: ActorRef): () => Promise<unknown> {
  return async () => {
    const reply = await actor.ask(MESSAGE, ASK);
    if (reply === undefined) throw new Error(`${actor.id}: echo replied with nothing`);
    return undefined;
  };
}

function batch(actor: ActorRef): () => Promise<unknown> {
  return async () => {
    for (let i = 0; i < BATCH - 1; i++) actor.send(MESSAGE);
    await actor.ask(MESSAGE, ASK);
    return undefined;
  };
}

export async function benchActors(): Promise<BenchRow[]> {
  const worker = new WorkerActor('bench-echo-worker', {
    module: new URL('./fixtures/echo-actor.ts', import.meta.url),
  });
  const local = new LocalActor('bench-echo-local', echo);
  try {
    await Promise.all([worker.start(), local.start()]);
    const specs: TaskSpec[] = [
      { name: 'local actor: ask round trip', unit: 'msgs/s', opsPerIteration: 1, fn: single(local) },
      {
        name: 'worker actor: ask round trip',
        unit: 'msgs/s',
        opsPerIteration: 1,
        fn: single(worker),
        baseline: 'local actor: ask round trip',
      },
      { name: 'local actor: 999 send + 1 ask', unit: 'msgs/s', opsPerIteration: BATCH, fn: batch(local) },
      {
        name: 'worker actor: 999 send + 1 ask',
        unit: 'msgs/s',
        opsPerIteration: BATCH,
        fn: batch(worker),
        baseline: 'local actor: 999 send + 1 ask',
      },
    ];
    return await runSuite('actors', specs);
  } finally {
    await Promise.all([worker.stop(), local.stop()]);
  }
}
