/**
 * Signing in to the UI, in Debian's chromium against a real `xyn serve`:
 * a page asked for without a session goes to the sign-in page and back; a
 * wrong token is refused there; the session is an HttpOnly SameSite=Strict
 * cookie; a post without the session's CSRF token, or from another site, is
 * refused 403 and changes nothing; signing out ends the session.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { servePerSuite } from '../helpers/cli.ts';
import { browserPerSuite, expectAccessible, expectClean, openPage, screenshot, signIn } from './browser.ts';

const node = servePerSuite();
const chrome = browserPerSuite();

async function viewerToken(): Promise<string> {
  const res = await fetch(`${node.serve.url}/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${node.admiral}`, 'content-type': 'application/json' }, body: JSON.stringify({ principal: 'vera', role: 'viewer' }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

describe('signing in', () => {
  it('sends a page asked for without a session to the sign-in page, and back to it once signed in', async () => {
    const w = await openPage(chrome.browser, node.serve.url);
    await w.page.goto('/ui/health');
    expect(new URL(w.page.url()).pathname).toBe('/ui/login');
    await expectAccessible(w.page);
    await screenshot(w.page, 'login');
    await w.page.getByTestId('login-token').fill(node.admiral);
    await w.page.getByTestId('login-submit').click();
    await w.page.waitForURL((u) => u.pathname === '/ui/health');
    await expect(w.page.getByTestId('health-version').textContent()).resolves.toMatch(/^\d+\.\d+\.\d+/);
    expect(Number(await w.page.getByTestId('health-workers').textContent())).toBe(2);
    expect(await w.page.getByTestId('actor-row').count()).toBeGreaterThan(3);
    const cookie = (await w.context.cookies()).find((c) => c.name === 'xyn_session');
    expect(cookie).toMatchObject({ value: node.admiral, httpOnly: true, sameSite: 'Strict', path: '/' });
    await expectAccessible(w.page);
    await screenshot(w.page, 'health');
    expectClean(w);
    await w.context.close();
  });

  it('refuses a wrong token on the sign-in page, saying why', async () => {
    const w = await openPage(chrome.browser, node.serve.url);
    await w.page.goto('/ui/login');
    await w.page.getByTestId('login-token').fill('xyn_not-a-token');
    const answer = w.page.waitForResponse((r) => r.url().endsWith('/ui/login') && r.request().method() === 'POST');
    await w.page.getByTestId('login-submit').click();
    expect((await answer).status()).toBe(401);
    await expect(w.page.getByTestId('login-error').textContent()).resolves.toContain('not accepted');
    expect(await w.context.cookies()).toEqual([]);
    await w.context.close();
  });

  it('shows a viewer what a viewer may see, and not the supervision tree', async () => {
    const w = await openPage(chrome.browser, node.serve.url);
    await signIn(w.page, await viewerToken(), '/ui/health');
    await expect(w.page.getByTestId('tree-hidden').textContent()).resolves.toContain('hxo:view');
    await expect(w.page.getByTestId('who').textContent()).resolves.toContain('vera (viewer)');
    expectClean(w);
    await w.context.close();
  });

  it('refuses a post without the session CSRF token, or from another site, and signs out with it', async () => {
    const w = await openPage(chrome.browser, node.serve.url);
    await signIn(w.page, node.admiral, '/ui/health');
    const cookie = `xyn_session=${node.admiral}`;
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${node.serve.url}/ui/logout`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    const missing = await post({}, '');
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain('CSRF');
    const csrf = await w.page.locator('input[name=_csrf]').first().inputValue();
    const crossSite = await post({ origin: 'http://evil.example' }, `_csrf=${csrf}`);
    expect(crossSite.status).toBe(403);
    expect(await crossSite.text()).toContain('another site');
    // Still signed in: neither post did anything.
    await w.page.reload();
    expect(new URL(w.page.url()).pathname).toBe('/ui/health');
    await w.page.getByTestId('sign-out').click();
    await w.page.waitForURL((u) => u.pathname === '/ui/login');
    expect((await w.context.cookies()).filter((c) => c.name === 'xyn_session')).toEqual([]);
    await w.page.goto('/ui/health');
    expect(new URL(w.page.url()).pathname).toBe('/ui/login');
    expectClean(w);
    await w.context.close();
  });
});

describe('the live stream for a page', () => {
  const connect = (headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${node.serve.url.replace('http', 'ws')}/api/v1/stream`, { headers });
      ws.once('open', () => {
        ws.close();
        resolve(101);
      });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', reject);
    });

  it("takes the session cookie from the node's own pages, and refuses it from another site", async () => {
    const cookie = `xyn_session=${node.admiral}`;
    expect(await connect({ cookie, origin: node.serve.url })).toBe(101);
    expect(await connect({ cookie, origin: 'http://evil.example' })).toBe(403);
    expect(await connect({ cookie: 'xyn_session=xyn_not-a-token', origin: node.serve.url })).toBe(401);
  });
});
