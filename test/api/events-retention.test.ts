/**
 * The events routes after retention trimmed the log, on a real server: a
 * `since` or `cursor` below the oldest kept seq is 410 Gone naming
 * `oldest_seq` in the standard error shape; without one, reads start at the
 * oldest kept event; a trimmed event by id is 410 too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './helpers.ts';

let api: TestApi;
let cut: number;
let trimmedId: string;
beforeAll(async () => {
  api = await startApi({}, { hxo: false });
  const { bus, events } = api.node.kernel;
  await Promise.all(Array.from({ length: 50 }, (_, n) => bus.publish('keep.tick', { n })));
  cut = bus.lastSeq - 20;
  trimmedId = events.get(cut - 5)?.event_id as string;
  await events.trimThrough(cut); // what retention does, by age or size
});
afterAll(async () => {
  await api?.close();
});

describe('events routes after trimming', () => {
  it('answer a since or cursor below the oldest kept seq with 410 naming oldest_seq', async () => {
    const below = cut - 1;
    for (const path of [`/api/v1/events?cursor=${below}`, `/api/v1/events?since=${below}&limit=3`, `/api/genesis/events?since=${below}`, `/api/genesis/events?topic=keep.*&since=${below}&n=3`]) {
      const r = await api.call('GET', path, { headers: { 'x-correlation-id': 'corr-gone' } });
      expect(r.status, path).toBe(410);
      expect(r.body).toEqual({
        error: { code: 'truncated', message: expect.stringContaining(`below the oldest event kept (seq ${cut + 1})`) as unknown, details: { oldest_seq: cut + 1, since: below } },
        correlation_id: 'corr-gone',
      });
      expect(r.headers.get('x-correlation-id')).toBe('corr-gone');
    }
    expect((await api.call('GET', '/api/v1/events?cursor=0')).status).toBe(410);
    const both = await api.call('GET', `/api/v1/events?cursor=${cut}&since=${cut}`);
    expect(both.status).toBe(400);
    expect(both.body.error).toMatchObject({ code: 'bad_request', details: { field: 'since' } });
  });

  it('read from the oldest kept event without one, and from it with since = oldest_seq - 1', async () => {
    const oldest = cut + 1;
    const first = async (path: string): Promise<number | undefined> => ((await api.call('GET', path)).body.items as { seq: number }[])[0]?.seq;
    expect(await first('/api/v1/events?limit=5')).toBe(oldest);
    expect(await first(`/api/v1/events?limit=5&cursor=${cut}`)).toBe(oldest);
    expect(await first(`/api/v1/events?limit=5&since=${cut}`)).toBe(oldest);
    expect(await first('/api/genesis/events?limit=5')).toBe(oldest);
    const ticks = await api.call('GET', `/api/genesis/events?topic=keep.tick&since=${cut}&limit=100`);
    expect((ticks.body.items as { seq: number }[]).map((e) => e.seq)).toEqual(api.node.kernel.bus.queryHistory({ topic: 'keep.tick', since: cut }).map((e) => e.seq));
    expect((ticks.body.items as unknown[]).length).toBeGreaterThan(0);
  });

  it('answer a trimmed event by id with 410, a kept one with the event', async () => {
    const kept = api.node.kernel.events.get(cut + 1);
    expect(kept).toBeDefined();
    expect((await api.call('GET', `/api/v1/events/${kept?.event_id as string}`)).body).toMatchObject({ seq: cut + 1 });
    const gone = await api.call('GET', `/api/v1/events/${trimmedId}`);
    expect(gone.status).toBe(410);
    expect(gone.body.error).toMatchObject({ code: 'truncated', details: { oldest_seq: cut + 1 } });
  });
});
