/**
 * The UI with `XYN_AUTH=open` (loopback only): no sign-in, everyone is
 * admiral — and a form posted from another site is still refused, since no
 * cookie stands in the way there.
 */
import { expect, it } from 'vitest';
import { servePerSuite } from '../helpers/cli.ts';
import { browserPerSuite, expectClean, openPage } from './browser.ts';

const node = servePerSuite({ XYN_AUTH: 'open' });
const chrome = browserPerSuite();

it('shows every page without a sign-in, and sends the sign-in page on', async () => {
  const w = await openPage(chrome.browser, node.serve.url);
  await w.page.goto('/ui/health');
  expect(new URL(w.page.url()).pathname).toBe('/ui/health');
  expect(await w.page.getByTestId('actor-row').count()).toBeGreaterThan(3);
  await expect(w.page.getByTestId('sign-out').count()).resolves.toBe(0);
  await w.page.goto('/ui/login?next=/ui/health');
  expect(new URL(w.page.url()).pathname).toBe('/ui/health');
  expectClean(w);
  await w.context.close();
});

it('still refuses a post from another site, or without the CSRF token', async () => {
  const post = (headers: Record<string, string>) => fetch(`${node.serve.url}/ui/logout`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: '' });
  expect((await post({ origin: 'http://evil.example' })).status).toBe(403);
  expect((await post({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
  expect((await post({})).status).toBe(403);
});
