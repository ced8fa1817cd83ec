/**
 * Reading the log for a few names skips the rest undecoded (event-name.ts):
 * a name is read from an event's stored bytes, whatever its length or
 * letters, and a read with a name test returns exactly what a read with the
 * same test on decoded events returns — packed shard events among them.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/env.ts';
import { EventLog } from '../../src/store/event-log.ts';
import { eventNameOf } from '../../src/store/event-name.ts';
import { encode } from '../../src/core/codec.ts';
import { makeEvent } from '../../src/core/event.ts';
import { Bus } from '../../src/kernel/bus.ts';
import { HexItems } from '../../src/core/hex-items.ts';
import { tempDir } from '../kernel/helpers.ts';

let dir: ReturnType<typeof tempDir>;
let store: Store;
beforeEach(() => {
  dir = tempDir();
  store = openStore({ path: dir.path });
});
afterEach(async () => {
  await store.close();
  dir.cleanup();
});

describe('eventNameOf', () => {
  it('reads the name of a stored event, short, long or not ASCII; other bytes give undefined', () => {
    for (const name of ['hxo.plan', 'xyn.kernel.worker.batch_retried', 'a'.repeat(31), `x.${'y'.repeat(300)}`, 'café.ünïcode']) {
      expect(eventNameOf(encode(makeEvent(7, name, { items: [1] }, {}, 'local', new Date(0))))).toBe(name);
    }
    expect(eventNameOf(encode({ event_name: 'first', event_id: 'x' }))).toBe('first');
    expect(eventNameOf(encode({ seq: 1, event_name: 'x' }))).toBeUndefined();
    expect(eventNameOf(encode(['hxo.plan']))).toBeUndefined();
    expect(eventNameOf(new Uint8Array(0))).toBeUndefined();
    expect(eventNameOf(encode(makeEvent(7, 'hxo.plan', {}, {}, 'local', new Date(0))).subarray(0, 50))).toBeUndefined();
  });
});

describe('EventLog.read with a name test', () => {
  it('returns what a test on decoded events returns, in order, from any seq, up to the limit', async () => {
    const bus = new Bus({ log: new EventLog(store) });
    const items = new HexItems(500, [{ name: '', bytes: 8, data: new Uint8Array(8 * 500).fill(7) }]);
    await Promise.all(
      Array.from({ length: 3000 }, (_, n) => (n % 100 === 0 ? bus.publish('hxo.audit', { n }) : bus.publish('hxo.shard.claimed', { plan_id: 'p', count: 500, items }))),
    );
    const log = new EventLog(store);
    const wanted = (name: string) => name === 'hxo.audit';
    for (const q of [{}, { since: 1234 }, { since: 100, until: 2000 }, { limit: 7 }, { since: 2850, limit: 1 }]) {
      const named = log.read({ ...q, names: wanted });
      expect(named).toEqual(log.read({ ...q, match: (e) => wanted(e.event_name) }));
      expect(named.length).toBeGreaterThan(0);
    }
    // The name test and the match both apply.
    expect(log.read({ names: wanted, match: (e) => (e.data as { n: number }).n >= 2000, limit: 100 }).map((e) => (e.data as { n: number }).n)).toEqual(Array.from({ length: 10 }, (_, k) => 2000 + 100 * k));
    // Packed items come back as items.
    expect(log.read({ names: (n) => n.startsWith('hxo.shard.'), limit: 1 })[0]?.data.items).toEqual(Array.from({ length: 500 }, () => '07'.repeat(8)));
    await bus.close();
  });
});
