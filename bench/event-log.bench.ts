/**
 * EventLog appends/s: batches of 1,000 events per `append` (one durable
 * transaction each) and single-event appends. Events are built before each
 * iteration, outside the timed part.
 */
import { makeEvent, type XynEvent } from '../src/core/event.ts';
import { openStore } from '../src/store/env.ts';
import { EventLog } from '../src/store/event-log.ts';
import { runSuite, tempDir, type BenchRow, type TaskSpec } from './lib.ts';

const BATCH = 1_000;

function appendTask(log: EventLog, size: number, name: string, baseline?: string): TaskSpec {
  let next: XynEvent[] = [];
  return {
    name,
    unit: 'events/s',
    opsPerIteration: size,
    ...(baseline ? { baseline } : {}),
    beforeEach: () => {
      const now = new Date();
      const from = log.lastSeq + 1;
      next = Array.from({ length: size }, (_, i) =>
        makeEvent(from + i, 'bench.log.append', { i: from + i, shard: i % 16 }, { actor: 'bench' }, 'bench', now),
      );
    },
    fn: () => log.append(next),
  };
}

export async function benchEventLog(): Promise<BenchRow[]> {
  const dir = tempDir('event-log');
  const store = openStore({ path: dir.path });
  try {
    const log = new EventLog(store);
    const single = 'event log: append 1 event';
    return await runSuite('event-log', [
      appendTask(log, 1, single),
      appendTask(log, BATCH, `event log: append ${BATCH} events / txn`, single),
    ]);
  } finally {
    await store.close();
    dir.remove();
  }
}
