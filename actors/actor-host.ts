/**
 * Worker-thread entry that hosts one incarnation of a WorkerActor.
 *
 * It imports the actor's module, builds its logic with the factory the module
 * exports, and runs the same sequential mailbox as a LocalActor: one message
 * at a time, in arrival order. Replies and acknowledgements go back in batches.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BatchingPort } from '../src/kernel/transport.ts';
import { serializeError } from '../src/core/errors.ts';
import { moduleSpecifier } from '../src/kernel/worker-entry.ts';
import type { ActorFactory, ActorLogic, ActorRef } from '../src/kernel/actor.ts';
import type { ActorHostData, FromHost, ToHost } from '../src/kernel/thread-protocol.ts';

const data = workerData as ActorHostData;
type Msg = Extract<ToHost, { t: 'msg' }>;
let queue: Msg[] = [];
let head = 0;
let logic: ActorLogic<unknown, unknown> | undefined;
let running = false;
let crashed = false;

if (!parentPort) throw new Error('actor-host must run in a worker thread');
const port = new BatchingPort<FromHost, ToHost>(parentPort, (items) => {
  for (const item of items) {
    if (item.t === 'msg') queue.push(item);
    else void stop();
  }
  void drain();
});

async function drain(): Promise<void> {
  if (running || !logic || crashed) return;
  running = true;
  try {
    while (head < queue.length) {
      const item = queue[head++] as Msg;
      try {
        const v = await logic.receive(item.m);
        port.post({ t: 'done', n: item.n, v: item.r ? v : null });
      } catch (err) {
        crashed = true;
        port.post({ t: 'crash', n: item.n, e: serializeError(err) });
        port.flush();
        return;
      }
    }
  } finally {
    if (head === queue.length) {
      queue = [];
      head = 0;
    }
    running = false;
  }
}

async function stop(): Promise<void> {
  try {
    await logic?.stop?.();
  } finally {
    port.post({ t: 'stopped' });
    port.flush();
  }
}

async function start(): Promise<void> {
  try {
    const mod = (await import(moduleSpecifier(data.module))) as Record<string, unknown>;
    const factory = mod[data.export];
    if (typeof factory !== 'function') {
      throw new TypeError(`module ${data.module} has no function export "${data.export}" to build actor ${data.actor}`);
    }
    // Inside the worker, `self` reaches the actor's own mailbox directly.
    const self: ActorRef = {
      id: data.actor,
      send: (m) => {
        queue.push({ t: 'msg', n: 0, m, r: 0 });
        void drain();
      },
      ask: () => Promise.reject(new Error('an actor cannot ask itself: it would wait on its own mailbox')),
    };
    logic = await (factory as ActorFactory<unknown, unknown>)({ self, incarnation: data.incarnation });
    port.post({ t: 'ready' });
    await drain();
  } catch (err) {
    port.post({ t: 'start_failed', e: serializeError(err) });
    port.flush();
  }
}

await start();
