/**
 * Debian's chromium, driven by playwright-core, against a real `xyn serve`:
 * what every UI test uses. Each page a test opens is watched for console
 * errors and failed requests (a test ends with `expectClean`), checked with
 * axe-core (`expectAccessible`: no serious or critical violation), and
 * photographed into test-results/ui/ for a reviewer (`screenshot`).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.ts';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const SCREENSHOTS = join(REPO_ROOT, 'test-results', 'ui');
const CHROMIUM = process.env.XYN_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** Without the background-networking flags chromium reaches for Google's hosts at every start, which this closed network refuses. */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/** One chromium for a test file: launched before its tests, closed after. */
export function browserPerSuite(): { browser: Browser } {
  const holder = {} as { browser: Browser };
  beforeAll(async () => {
    holder.browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  }, 60_000);
  afterAll(async () => {
    await holder.browser?.close();
  });
  return holder;
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors, page errors and failed requests seen so far. */
  problems: string[];
}

/** A new context (its own cookies) and page, watched for errors. */
export async function openPage(browser: Browser, baseURL: string): Promise<WatchedPage> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // ERR_ABORTED is the browser dropping what a page still loaded when it navigated away: not a failure of the node's.
  page.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`);
  });
  return { page, context, problems };
}

/** Signs in through the sign-in page, as a user would: paste the token, press Enter. */
export async function signIn(page: Page, token: string, next = '/ui/events'): Promise<void> {
  await page.goto(`/ui/login?next=${encodeURIComponent(next)}`);
  await page.getByTestId('login-token').fill(token);
  await page.getByTestId('login-token').press('Enter');
  await page.waitForURL((u) => u.pathname === next.split('?')[0]);
}

/** No serious or critical accessibility violation on the page as it is now (axe-core). */
export async function expectAccessible(page: Page): Promise<void> {
  // Evaluated through the debugging protocol: the page's own policy (no inline script) stays on, and is not what is tested here.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(opts: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const result = await axe.run({ resultTypes: ['violations'] });
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')})`);
  });
  expect(violations).toEqual([]);
}

/** The page as a PNG in test-results/ui/NAME.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Nothing went wrong in the page: no console error, no page error, no failed request. */
export function expectClean(watched: WatchedPage): void {
  expect(watched.problems).toEqual([]);
}
