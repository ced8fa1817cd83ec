/**
 * `GET /api/v1/events` as the event console reads it, on a real server:
 * newest first with cursor paging (no gap, no duplicate), a topic pattern,
 * a correlation id, each with what the caller may see (audit events only
 * with hxo:audit), and bad input refused naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAudit } from '../../src/kernel/audit.ts';
import { startApi, type Answer, type TestApi } from './helpers.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startApi({}, { hxo: false });
  const { bus } = api.node.kernel;
  for (let n = 0; n < 30; n++) await bus.publish(n % 3 === 0 ? 'shop.order.placed' : 'shop.cart.updated', { n }, { correlation_id: `corr-${n % 5}` });
  await publishAudit(bus, { user: 'kyle', role: 'admiral', operation: 'plan.submit', details: {} }, { correlation_id: 'corr-0' });
});
afterAll(async () => {
  await api?.close();
});

interface Item {
  seq: number;
  event_name: string;
  correlation_id: string;
}
const items = (a: Answer) => a.body.items as Item[];

function expectBadRequest(a: Answer, field: string, message: RegExp): void {
  expect(a.status).toBe(400);
  expect(a.body.error).toMatchObject({ code: 'bad_request', details: { field } });
  expect((a.body.error as { message: string }).message).toMatch(message);
}

describe('GET /api/v1/events for the console', () => {
  it('reads newest first, paging down with cursor, with no gap and no duplicate', async () => {
    const all = api.node.kernel.events.read({ limit: 100_000 }).map((e) => e.seq);
    const seen: number[] = [];
    let pages = 0;
    for (let cursor: string | null = ''; cursor !== null; pages++) {
      const page = await api.call('GET', `/api/v1/events?order=desc&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...items(page).map((e) => e.seq));
      cursor = page.body.next_cursor as string | null;
    }
    expect(seen).toEqual([...all].reverse());
    expect(pages).toBe(Math.ceil(all.length / 7));
  });

  it('keeps the events whose name matches a topic pattern, in either order', async () => {
    const desc = items(await api.call('GET', '/api/v1/events?order=desc&pattern=shop.*.placed&limit=100'));
    expect(desc.map((e) => e.event_name)).toEqual(Array(10).fill('shop.order.placed'));
    expect(desc[0]?.seq).toBeGreaterThan(desc[9]?.seq as number);
    const tail = items(await api.call('GET', '/api/v1/events?pattern=shop.>&limit=100'));
    expect(tail).toHaveLength(30);
    expect(tail.map((e) => e.seq)).toEqual(tail.map((e) => e.seq).sort((a, b) => a - b));
    // A page smaller than the matches stops at the last one it answers, and the next goes on below it.
    const first = await api.call('GET', '/api/v1/events?order=desc&pattern=shop.order.*&limit=4');
    const second = await api.call('GET', `/api/v1/events?order=desc&pattern=shop.order.*&limit=100&cursor=${first.body.next_cursor as string}`);
    expect([...items(first), ...items(second)].map((e) => e.seq)).toEqual(desc.map((e) => e.seq));
  });

  it('keeps the events of one correlation id, and the audit among them only for a role with hxo:audit', async () => {
    const chain = (token: string) => api.call('GET', '/api/v1/events?correlation_id=corr-0&limit=100', { token });
    const admiral = items(await chain(api.tokens.admiral));
    expect(admiral.map((e) => e.event_name)).toEqual([...Array(6).fill(expect.stringMatching(/^shop\./)), 'hxo.audit']);
    expect(admiral.every((e) => e.correlation_id === 'corr-0')).toBe(true);
    const viewer = items(await chain(api.tokens.viewer));
    expect(viewer.map((e) => e.seq)).toEqual(admiral.slice(0, 6).map((e) => e.seq));
  });

  it('refuses a pattern that is not one, and since with order=desc, naming the field', async () => {
    expectBadRequest(await api.call('GET', '/api/v1/events?pattern=shop..order'), 'pattern', /^pattern: invalid topic pattern "shop\.\.order": token 2/);
    expectBadRequest(await api.call('GET', '/api/v1/events?pattern=shop.>.x'), 'pattern', /"\*", or ">" as the last token/);
    expectBadRequest(await api.call('GET', '/api/v1/events?order=desc&since=3'), 'since', /with order=desc page on with cursor/);
    const sideways = await api.call('GET', '/api/v1/events?order=sideways');
    expect(sideways.status).toBe(400);
    expect(sideways.body.error).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/order.*"asc"\|"desc"/) as unknown });
  });
});
