/**
 * The event console, in Debian's chromium against a real `xyn serve`: an
 * event emitted through the API appears at the top without a reload; the
 * pattern filter keeps a non-matching event out of the list and the live
 * feed; Pause holds a new event back (counted) and Resume adds it; an
 * event's page lists its correlation chain, oldest first, linked; a bad
 * pattern is a 400 naming the bad token; an older page lists the events
 * below its cursor; the polling partial keeps the pattern; a viewer sees
 * no audit event.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { servePerSuite } from '../helpers/cli.ts';
import { browserPerSuite, expectAccessible, expectClean, openPage, screenshot, signIn } from './browser.ts';

const node = servePerSuite();
const chrome = browserPerSuite();

interface Emitted {
  event_id: string;
  seq: number;
}

async function emit(eventName: string, extra: { correlationId?: string; run_id?: string } = {}): Promise<Emitted> {
  const res = await fetch(`${node.serve.url}/api/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${node.admiral}`, 'content-type': 'application/json', ...(extra.correlationId ? { 'x-correlation-id': extra.correlationId } : {}) },
    body: JSON.stringify({ event_name: eventName, data: { note: `from the UI test: ${eventName}` }, ...(extra.run_id ? { run_id: extra.run_id } : {}) }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as Emitted;
}

/** Resolves once the list's top row is the event `seq`. */
async function waitForTop(page: Page, seq: number): Promise<void> {
  await page.waitForSelector(`#events-rows > tr:first-child[data-seq="${seq}"]`);
}

const rowNames = (page: Page) => page.locator('[data-testid=event-row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));

describe('the event console', () => {
  it('adds an emitted event live at the top, filters by pattern, and holds new events while paused', async () => {
    const w = await openPage(chrome.browser, node.serve.url);
    await signIn(w.page, node.admiral, '/ui/events');
    await w.page.waitForSelector('[data-testid=events-live][data-state=live]');
    const placed = await emit('shop.order.placed');
    await waitForTop(w.page, placed.seq);
    await expect(w.page.locator('[data-testid=event-row]').first().getByTestId('event-link').textContent()).resolves.toBe('shop.order.placed');
    await expectAccessible(w.page);
    await screenshot(w.page, 'events');

    await w.page.getByTestId('events-pattern').fill('shop.order.*');
    await w.page.getByTestId('events-pattern').press('Enter');
    await w.page.waitForURL((u) => u.searchParams.get('pattern') === 'shop.order.*');
    await w.page.waitForSelector('[data-testid=events-live][data-state=live]');
    expect(await rowNames(w.page)).toEqual(['shop.order.placed']);
    await emit('shop.cart.updated');
    const shipped = await emit('shop.order.shipped');
    // The stream delivers in log order: once the later event is at the top, the earlier one was passed over.
    await waitForTop(w.page, shipped.seq);
    expect(await rowNames(w.page)).toEqual(['shop.order.shipped', 'shop.order.placed']);

    await w.page.getByTestId('events-pause').click();
    await expect(w.page.getByTestId('events-pause').getAttribute('aria-pressed')).resolves.toBe('true');
    const held = await emit('shop.order.held');
    await w.page.waitForSelector('[data-testid=events-held]:has-text("1 new event held")');
    expect(await rowNames(w.page)).toEqual(['shop.order.shipped', 'shop.order.placed']);
    await w.page.getByTestId('events-pause').click();
    await waitForTop(w.page, held.seq);
    expect(await rowNames(w.page)).toEqual(['shop.order.held', 'shop.order.shipped', 'shop.order.placed']);
    await expect(w.page.getByTestId('events-held').textContent()).resolves.toBe('');
    expectClean(w);
    await w.context.close();
  });

  it("shows an event's envelope, data and correlation chain, oldest first, linked to each event and its run", async () => {
    const runId = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
    const first = await emit('shop.payment.requested', { correlationId: 'corr-ui-chain', run_id: runId });
    await emit('shop.unrelated');
    const second = await emit('shop.payment.settled', { correlationId: 'corr-ui-chain' });
    const w = await openPage(chrome.browser, node.serve.url);
    await signIn(w.page, node.admiral, `/ui/events/${second.event_id}`);
    await expect(w.page.getByTestId('event-correlation').textContent()).resolves.toBe('corr-ui-chain');
    await expect(w.page.getByTestId('event-data').textContent()).resolves.toContain('from the UI test: shop.payment.settled');
    const chain = w.page.getByTestId('event-chain').getByTestId('event-row');
    expect(await chain.evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-name'), r.getAttribute('aria-current')]))).toEqual([
      ['shop.payment.requested', null],
      ['shop.payment.settled', 'true'],
    ]);
    await expect(chain.first().getByTestId('event-run').getAttribute('href')).resolves.toBe(`/ui/runs/${runId}`);
    await expectAccessible(w.page);
    await screenshot(w.page, 'event-detail');
    await chain.first().getByTestId('event-link').click();
    await w.page.waitForURL((u) => u.pathname === `/ui/events/${first.event_id}`);
    await expect(w.page.getByTestId('event-name').textContent()).resolves.toBe('shop.payment.requested');
    expectClean(w);
    await w.context.close();
  });

  it('refuses a pattern that is not one with a 400 naming the bad token; pages back through older events; answers the polling partial', async () => {
    const w = await openPage(chrome.browser, node.serve.url);
    await signIn(w.page, node.admiral, '/ui/events');
    const answer = await w.page.goto('/ui/events?pattern=shop..order');
    expect(answer?.status()).toBe(400);
    await expect(w.page.getByTestId('events-error').textContent()).resolves.toMatch(/pattern: invalid topic pattern "shop\.\.order": token 2/);
    await expect(w.page.getByTestId('events-pattern').inputValue()).resolves.toBe('shop..order');
    const cookie = `xyn_session=${node.admiral}`;
    const partial = await fetch(`${node.serve.url}/ui/events/stream?pattern=shop.>.x`, { headers: { cookie, 'hx-request': 'true' } });
    expect(partial.status).toBe(400);
    expect(await partial.text()).toContain('as the last token');
    const polledOrder = await emit('shop.order.polled');
    await emit('shop.cart.polled');
    const polled = await fetch(`${node.serve.url}/ui/events/stream?pattern=shop.order.*`, { headers: { cookie, 'hx-request': 'true' } });
    expect(polled.status).toBe(200);
    const html = await polled.text();
    expect(html).toContain('data-name="shop.order.polled"');
    expect(html).not.toContain('data-name="shop.cart.polled"');
    // An older page: the events below a cursor, not live.
    await w.page.goto(`/ui/events?cursor=${polledOrder.seq}`);
    await w.page.waitForSelector('[data-testid=events-history]');
    expect(await w.page.getByTestId('events-live').count()).toBe(0);
    const seqs = await w.page.locator('[data-testid=event-row]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-seq'))));
    expect(seqs).toEqual(Array.from({ length: polledOrder.seq - 1 }, (_, i) => polledOrder.seq - 1 - i));
    // The one problem the browser saw is the page's own 400, which this test asked for.
    expect(w.problems).toEqual([expect.stringMatching(/^console: Failed to load resource: .* 400/)]);
    await w.context.close();
  });

  it('shows a viewer no audit event, as the API does', async () => {
    const res = await fetch(`${node.serve.url}/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${node.admiral}`, 'content-type': 'application/json' }, body: JSON.stringify({ principal: 'vera', role: 'viewer' }) });
    expect(res.status).toBe(201);
    const { token } = (await res.json()) as { token: string };
    const names = async (who: string) => {
      const w = await openPage(chrome.browser, node.serve.url);
      await signIn(w.page, who, '/ui/events');
      const seen = await rowNames(w.page);
      expectClean(w);
      await w.context.close();
      return seen;
    };
    // Making the token was audited: the admiral sees it, the viewer does not.
    expect(await names(node.admiral)).toContain('hxo.audit');
    const viewer = await names(token);
    expect(viewer.length).toBeGreaterThan(0);
    expect(viewer).not.toContain('hxo.audit');
  });
});
