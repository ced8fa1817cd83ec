/**
 * Bus events/s: bursts of 1,000 publishes awaited together (each resolves once
 * durable and fanned out), with 1 and with 100 subscribers. Every iteration
 * also drains every subscriber with `poll()` and checks it got the whole burst,
 * so queues never overflow silently (a `lagged` delivery fails the bench).
 */
import type { Subscription } from '../src/kernel/subscription.ts';
import { Bus } from '../src/kernel/bus.ts';
import { openStore } from '../src/store/env.ts';
import { EventLog } from '../src/store/event-log.ts';
import { runSuite, tempDir, type BenchRow, type TaskSpec } from './lib.ts';

const BURST = 1_000;
const TOPIC = 'bench.bus.tick';
const PATTERN = 'bench.bus.*';

function drain(sub: Subscription): number {
  let events = 0;
  for (let d = sub.poll(); d; d = sub.poll()) {
    if (d.type === 'lagged') throw new Error(`subscription ${sub.id} lagged: ${d.skipped} events skipped`);
    events++;
  }
  return events;
}

function fanOutTask(bus: Bus, subscribers: number, baseline?: string): TaskSpec {
  let subs: Subscription[] = [];
  let counter = 0;
  return {
    name: `bus: publish ×${BURST} → ${subscribers} subscriber${subscribers === 1 ? '' : 's'}`,
    unit: 'events/s',
    opsPerIteration: BURST,
    ...(baseline ? { baseline } : {}),
    beforeAll: () => {
      // Room for a whole burst: the publisher never waits on a subscriber.
      subs = Array.from({ length: subscribers }, () => bus.subscribe(PATTERN, { queueSize: BURST * 2, lag: 'skip' }));
    },
    afterAll: () => {
      for (const sub of subs) {
        const { skipped, queued } = sub.stats();
        if (skipped > 0 || queued > 0) throw new Error(`subscription ${sub.id}: ${skipped} skipped, ${queued} left`);
        sub.unsubscribe();
      }
      subs = [];
    },
    fn: async () => {
      const published: Promise<unknown>[] = new Array<Promise<unknown>>(BURST);
      for (let i = 0; i < BURST; i++) published[i] = bus.publish(TOPIC, { i: counter++ });
      await Promise.all(published);
      for (const sub of subs) {
        const got = drain(sub);
        if (got !== BURST) throw new Error(`subscription ${sub.id} got ${got} of ${BURST} events`);
      }
      return undefined;
    },
  };
}

export async function benchBus(): Promise<BenchRow[]> {
  const dir = tempDir('bus');
  const store = openStore({ path: dir.path });
  try {
    const bus = new Bus({ log: new EventLog(store) });
    const one = fanOutTask(bus, 1);
    const rows = await runSuite('bus', [one, fanOutTask(bus, 100, one.name)]);
    await bus.close();
    return rows;
  } finally {
    await store.close();
    dir.remove();
  }
}
