/**
 * The runs pages, in Debian's chromium against a real `xyn serve`: a run
 * launched from the launcher's form (filled and sent with the keyboard),
 * seen waiting at its gate, approved in the browser and seen completing
 * with no reload; bad inputs answered on the form with the values kept; a
 * viewer who sees no approve button and whose posted approve is refused
 * 403, the run still waiting; the list's status filter and cursor paging;
 * a step's page.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { servePerSuite } from '../helpers/cli.ts';
import { browserPerSuite, expectAccessible, expectClean, openPage, screenshot, signIn } from './browser.ts';

const node = servePerSuite();
const chrome = browserPerSuite();

const GATED = {
  id: 'ui.gated',
  name: 'Gated release',
  description: 'Releases a service once someone approves it.',
  trigger: { event_type: 'app.ui.never' },
  inputs: [
    { name: 'service', description: 'the service to release' },
    { name: 'replicas', required: false, default: 2, description: 'how many copies to run' },
    { name: 'labels', required: false, default: { team: 'ops' } },
  ],
  plan: [
    { kind: 'transform', id: 'prepare', outputs: { service: '{{inputs.service}}', replicas: '{{inputs.replicas}}' } },
    { kind: 'gate', id: 'approve', mode: 'manual' },
    { kind: 'transform', id: 'release', outputs: { released: '{{inputs.service}} by {{steps.approve.outputs.by}}' } },
    // An action keeps a log of its step: an artifact of the run, linked from the step.
    { kind: 'action_task', id: 'announce', action: 'events.emit', with: { name: 'app.ui.released', data: { service: '{{inputs.service}}' } } },
  ],
  outputs: [{ name: 'released', value: '{{steps.release.outputs.released}}' }],
};
const QUICK = { id: 'ui.quick', name: 'Quick', trigger: { event_type: 'app.ui.never' }, plan: [{ kind: 'transform', id: 'only', outputs: { ok: true } }] };

async function api(method: string, path: string, body?: unknown, token = node.admiral): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${node.serve.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function ok(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const answer = await api(method, path, body);
  expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
  return answer.body;
}

/** Saves, validates and promotes a blueprint through the drafts routes. */
async function promote(bp: { id: string }): Promise<void> {
  const saved = await ok('POST', '/api/v1/drafts', { text: JSON.stringify(bp), file_name: `${bp.id}.json` });
  await ok('POST', `/api/v1/drafts/${saved.draft_id as string}/validate`, {});
  await ok('POST', `/api/v1/drafts/${saved.draft_id as string}/promote`, { revision: saved.revision });
}

async function tokenOf(role: string): Promise<string> {
  return (await ok('POST', '/api/v1/tokens', { principal: `ui-${role}`, role })).token as string;
}

const runStatusOf = async (runId: string) => (await ok('GET', `/api/v1/runs/${runId}`)).status;

/** A run of the gated blueprint, started through the API, once it waits at its gate. */
async function startWaitingRun(service: string): Promise<string> {
  const runId = (await ok('POST', '/api/v1/runs', { blueprint_ref: 'ui.gated', inputs: { service } })).run_id as string;
  await expect.poll(async () => (await ok('GET', `/api/v1/runs/${runId}`)).waiting_on, { timeout: 10_000 }).toBe('approve');
  return runId;
}

/** The launcher page, already signed in, with the gated blueprint picked by keyboard. */
async function openLauncher(page: Page): Promise<void> {
  await page.goto('/ui/runs/new');
  await page.getByTestId('launcher-blueprint').selectOption('ui.gated');
  await page.getByTestId('launcher-choose').press('Enter');
  await page.waitForURL((u) => u.searchParams.get('blueprint') === 'ui.gated');
}

describe('runs pages', () => {
  beforeAll(async () => {
    await promote(GATED);
    await promote(QUICK);
  }, 30_000);

  it('launches a run from the form, shows it waiting at the gate, approves it, and sees it complete live', { timeout: 60_000 }, async () => {
    const w = await openPage(chrome.browser, node.serve.url);
    await signIn(w.page, node.admiral, '/ui/runs/new');
    await openLauncher(w.page);
    await expect(w.page.getByTestId('launcher-form').textContent()).resolves.toContain('the service to release');
    await expectAccessible(w.page);
    await w.page.getByTestId('launcher-input-service').fill('web');
    await w.page.getByTestId('launcher-input-replicas').fill('3');
    await screenshot(w.page, 'run-launcher');
    await w.page.getByTestId('launcher-input-replicas').press('Enter');
    await w.page.waitForURL((u) => /^\/ui\/runs\/[0-9a-f-]{36}$/.test(u.pathname));
    const gatedRun = new URL(w.page.url()).pathname.split('/').pop() as string;

    // Waiting at the gate shows up as the page refreshes its status, the approve form with it.
    await w.page.getByTestId('gate-approve').waitFor();
    await expect(w.page.getByTestId('run-waiting-on').textContent()).resolves.toBe('approve');
    expect(JSON.parse((await w.page.getByTestId('run-inputs').textContent()) as string)).toEqual({ service: 'web', replicas: 3, labels: { team: 'ops' } });
    await expectAccessible(w.page);
    await screenshot(w.page, 'run-detail');

    // No reload from here on: the marker lives as long as this document does.
    await w.page.evaluate(() => ((globalThis as unknown as { runPageMarker: number }).runPageMarker = 1));
    await w.page.getByTestId('gate-reason').fill('looks right');
    await w.page.getByTestId('gate-approve').click();
    await w.page.locator('[data-testid=run-status][data-status=completed]').waitFor();
    expect(await w.page.evaluate(() => (globalThis as unknown as { runPageMarker?: number }).runPageMarker)).toBe(1);
    expect(await w.page.getByTestId('gate-approve').count()).toBe(0);
    await expect(w.page.locator('[data-step-id=approve] [data-testid=step-gate]').textContent()).resolves.toBe('approved by admiral: looks right');
    expect(JSON.parse((await w.page.getByTestId('run-outputs').textContent()) as string)).toEqual({ released: 'web by admiral' });
    expect(await runStatusOf(gatedRun)).toBe('completed');
    const log = await w.page.locator('[data-step-id=announce] [data-testid=step-log]').getAttribute('href');
    expect(log).toMatch(/^\/ui\/artifacts\/[0-9a-f-]+$/);
    // The artifacts' list is loaded again when the run ends: the step's log is in it.
    await expect.poll(() => w.page.getByTestId('run-artifact-row').locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))).toContain(log);

    await w.page.locator('[data-step-id=release] [data-testid=step-link]').click();
    await w.page.waitForURL((u) => u.pathname.endsWith('/steps/release'));
    await expect(w.page.getByTestId('step-detail-status').textContent()).resolves.toBe('completed');
    expect(JSON.parse((await w.page.getByTestId('step-outputs').textContent()) as string)).toEqual({ released: 'web by admiral' });
    await expectAccessible(w.page);
    await screenshot(w.page, 'step-detail');
    expectClean(w);
    await w.context.close();
  });

  it('answers bad inputs on the form, saying what is wrong and keeping what was typed', { timeout: 60_000 }, async () => {
    const w = await openPage(chrome.browser, node.serve.url);
    await signIn(w.page, node.admiral, '/ui/runs/new');
    await openLauncher(w.page);
    // The browser would hold back a form missing a required field; the node must say it too.
    await w.page.getByTestId('launcher-form').evaluate((f) => f.setAttribute('novalidate', ''));
    await w.page.getByTestId('launcher-input-labels').fill('{"team": "web"}');
    const answer = w.page.waitForResponse((r) => r.url().endsWith('/ui/runs') && r.request().method() === 'POST');
    await w.page.getByTestId('launcher-submit').click();
    expect((await answer).status()).toBe(400);
    await expect(w.page.getByTestId('launcher-error').textContent()).resolves.toContain('inputs.service: required, and not given');
    await expect(w.page.getByTestId('launcher-input-labels').inputValue()).resolves.toBe('{"team": "web"}');

    await w.page.getByTestId('launcher-input-service').fill('web');
    await w.page.getByTestId('launcher-input-labels').fill('{team');
    await w.page.getByTestId('launcher-submit').click();
    await expect(w.page.getByTestId('launcher-error').textContent()).resolves.toContain('input labels: expected JSON');
    await expect(w.page.getByTestId('launcher-input-service').inputValue()).resolves.toBe('web');
    await expectAccessible(w.page);
    // The 400s are the answers under test, not faults of the page.
    expect(w.problems.filter((p) => !p.includes('400'))).toEqual([]);
    await w.context.close();
  });

  it('shows a viewer no approve button, and refuses the approve a viewer posts anyway: the run stays waiting', { timeout: 60_000 }, async () => {
    const runId = await startWaitingRun('db');
    const w = await openPage(chrome.browser, node.serve.url);
    await signIn(w.page, await tokenOf('viewer'), `/ui/runs/${runId}`);
    await w.page.getByTestId('gate-not-yours').waitFor();
    expect(await w.page.getByTestId('gate-approve').count()).toBe(0);
    expect(await w.page.getByTestId('cancel-form').count()).toBe(0);
    const csrf = await w.page.locator('input[name=_csrf]').first().inputValue();
    const posted = await w.page.request.post(`/ui/runs/${runId}/steps/approve/approve`, { form: { _csrf: csrf, reason: 'me too' }, maxRedirects: 0 });
    expect(posted.status()).toBe(403);
    expect(await posted.text()).toContain('xyn:runs:approve');
    expect((await ok('GET', `/api/v1/runs/${runId}`)).waiting_on).toBe('approve');
    expectClean(w);
    await w.context.close();
  });

  it('filters the list by status and pages through it', { timeout: 60_000 }, async () => {
    const waiting = await startWaitingRun('cache');
    const quick: string[] = [];
    for (let i = 0; i < 3; i++) quick.push((await ok('POST', '/api/v1/runs', { blueprint_ref: 'ui.quick' })).run_id as string);
    for (const id of quick) await expect.poll(() => runStatusOf(id), { timeout: 10_000 }).toBe('completed');
    const listed = async (query: string) => ((await ok('GET', `/api/v1/runs?limit=500${query}`)).items as { run_id: string }[]).map((r) => r.run_id);
    const all = await listed('');
    const w = await openPage(chrome.browser, node.serve.url);
    await signIn(w.page, node.admiral, '/ui/runs?limit=2');
    const rows = w.page.getByTestId('run-row');
    const idsShown = () => rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-run-id') as string));
    await expect(idsShown()).resolves.toEqual(all.slice(0, 2));
    await expectAccessible(w.page);
    await screenshot(w.page, 'runs');

    // Paging, 2 a page: every run once, newest first, as the API lists them.
    const seen = await idsShown();
    while ((await w.page.getByTestId('runs-next').count()) > 0) {
      const last = seen[seen.length - 1] as string;
      await w.page.getByTestId('runs-next').click();
      await expect.poll(idsShown).not.toContain(last);
      seen.push(...(await idsShown()));
    }
    expect(seen).toEqual(all);
    expect(new URL(w.page.url()).searchParams.get('cursor')).toBeTruthy();

    // The filter: the runs waiting at their gate are the running ones; the page size stays.
    const statuses = () => w.page.getByTestId('run-row-status').allTextContents();
    const running = await listed('&status=running');
    expect(running).toContain(waiting);
    await w.page.getByTestId('run-status-filter').selectOption('running');
    await expect.poll(idsShown).toEqual(running.slice(0, 2));
    await expect.poll(() => new URL(w.page.url()).searchParams.get('status')).toBe('running');
    await w.page.getByTestId('run-status-filter').selectOption('completed');
    await expect.poll(statuses).toEqual(['completed', 'completed']);
    await expect(w.page.getByTestId('runs-next').count()).resolves.toBe(1);

    // Cancelling a run that waits: from its page, with a reason typed and Enter.
    await w.page.goto(`/ui/runs/${waiting}`);
    await w.page.getByTestId('cancel-reason').fill('not today');
    await w.page.getByTestId('cancel-reason').press('Enter');
    await w.page.locator('[data-testid=run-status][data-status=cancelled]').waitFor();
    await expect(w.page.getByTestId('run-error').textContent()).resolves.toContain('not today');
    expect(await w.page.getByTestId('cancel-form').count()).toBe(0);
    expect(await runStatusOf(waiting)).toBe('cancelled');
    expectClean(w);
    await w.context.close();
  });

  it('answers bad addresses and forms with a 4xx page naming what is wrong', async () => {
    const cookie = `xyn_session=${node.admiral}`;
    const get = async (path: string) => {
      const res = await fetch(`${node.serve.url}${path}`, { headers: { cookie } });
      return { status: res.status, text: await res.text() };
    };
    const cases: [string, number, string][] = [
      ['/ui/runs?status=stuck', 400, 'expected one of created, running, completed, failed, cancelled'],
      ['/ui/runs?limit=0', 400, 'limit'],
      ['/ui/runs/not-a-run', 400, 'a run id'],
      ['/ui/runs/01a231ea-7dea-7000-b6aa-fb27c9aa22a4', 404, 'no run 01a231ea-7dea-7000-b6aa-fb27c9aa22a4'],
      ['/ui/runs/new?blueprint=no.such', 404, 'no.such'],
    ];
    for (const [path, status, says] of cases) {
      const answer = await get(path);
      expect(answer.status, path).toBe(status);
      expect(answer.text, path).toContain(says);
    }
    const page = await get('/ui/runs/new');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] as string;
    const posted = await fetch(`${node.serve.url}/ui/runs`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, blueprint: 'ui.gated' }).toString() });
    expect(posted.status).toBe(400);
    expect(await posted.text()).toContain('version');
  });
});
