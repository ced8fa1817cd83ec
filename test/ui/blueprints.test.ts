/**
 * Blueprints and drafts in Debian's chromium against a real `xyn serve`: a
 * draft with mistakes saved through the form shows each issue on the line it
 * is about (or above the text, when no line holds it); the fix, validated
 * and promoted in the browser, is listed as the active blueprint. An
 * operator (may write, may not promote) sees no promote button and is
 * refused 403 posting the promote form anyway.
 */
import { describe, expect, it } from 'vitest';
import { servePerSuite } from '../helpers/cli.ts';
import { browserPerSuite, expectAccessible, expectClean, openPage, screenshot, signIn } from './browser.ts';

const node = servePerSuite();
const chrome = browserPerSuite();

/** A valid blueprint of id `id`: an input, and one transform step (no trigger of it is ever emitted). */
const blueprint = (id: string) => `id: ${id}
name: "UI test blueprint"
description: "made by the blueprints page test"
trigger:
  event_type: "ui.test.never"
inputs:
  - name: who
    required: false
    default: "world"
plan:
  - kind: transform
    id: greet
    outputs:
      line: "hello {{inputs.who}}"
`;

async function api<T>(method: string, path: string, body?: unknown, token = node.admiral): Promise<T> {
  const res = await fetch(`${node.serve.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  return (await res.json()) as T;
}

describe('blueprints and drafts', () => {
  it('saves a draft with mistakes through the form and shows each issue on its line', async () => {
    const w = await openPage(chrome.browser, node.serve.url);
    await signIn(w.page, node.admiral, '/ui/blueprints');
    await w.page.getByTestId('draft-new-link').click();
    await w.page.waitForURL((u) => u.pathname === '/ui/drafts/new');
    await expectAccessible(w.page);
    // Two mistakes: a step kind that does not exist (line 12) and an unknown field of an input (line 10).
    const broken = blueprint('ui.greeter_draft').replace('kind: transform', 'kind: teleport').replace('default: "world"', 'default: "world"\n    colour: blue');
    await w.page.getByTestId('draft-text-input').fill(broken);
    await w.page.getByTestId('draft-save').click();
    await w.page.waitForURL((u) => u.pathname.startsWith('/ui/drafts/draft_'));
    const draftPage = new URL(w.page.url()).pathname;
    expect(draftPage).toMatch(/^\/ui\/drafts\/draft_[0-9a-f]{16}$/);
    await expect(w.page.getByTestId('draft-validation').textContent()).resolves.toContain('2 issues');
    const marked = await w.page.getByTestId('issue-line').evaluateAll((lines) => lines.map((l) => [l.getAttribute('data-line'), l.textContent?.replace(/^\d+/, '').trim()]));
    expect(marked).toEqual([
      ['10', 'colour: blue'],
      ['12', '- kind: teleport'],
    ]);
    const notes = await w.page.getByTestId('issue-note').allTextContents();
    expect(notes[0]).toContain('inputs[0].colour: unknown field "colour"');
    expect(notes[1]).toMatch(/plan\[0\]\.kind: must be one of .*transform/);
    await expect(w.page.getByTestId('draft-promote').count()).resolves.toBe(0);
    await expectAccessible(w.page);
    await screenshot(w.page, 'draft-detail');

    // Edit: the form holds the text as saved; the fix is the draft's next revision, validated on saving.
    await w.page.getByTestId('draft-edit').click();
    await w.page.waitForURL((u) => u.pathname === '/ui/drafts/new');
    expect(await w.page.getByTestId('draft-text-input').inputValue()).toBe(broken);
    await w.page.getByTestId('draft-text-input').fill(blueprint('ui.greeter_draft'));
    await w.page.getByTestId('draft-save').click();
    await w.page.waitForURL((u) => u.pathname === draftPage);
    await expect(w.page.getByTestId('draft-revision').textContent()).resolves.toMatch(/^2 of 2/);
    await expect(w.page.getByTestId('draft-validation').textContent()).resolves.toMatch(/^valid/);
    await expect(w.page.getByTestId('issue-line').count()).resolves.toBe(0);
    expectClean(w);
    await w.context.close();
  });

  it('validates a fixed draft and promotes it in the browser: the blueprint is listed as active', async () => {
    const saved = await api<{ draft_id: string }>('POST', '/api/v1/drafts', { text: blueprint('ui.greeter').replace('kind: transform', 'kind: teleport') });
    const draftId = saved.draft_id;
    await api('POST', `/api/v1/drafts/${draftId}/validate`, {});
    // The fix, saved as the next revision: not validated yet, so nothing to promote.
    await api('POST', '/api/v1/drafts', { text: blueprint('ui.greeter'), draft_id: draftId });

    const w = await openPage(chrome.browser, node.serve.url);
    await signIn(w.page, node.admiral, `/ui/drafts/${draftId}`);
    await expect(w.page.getByTestId('draft-stale-report').textContent()).resolves.toContain('revision 2 has not been validated');
    await expect(w.page.getByTestId('issue-line').count()).resolves.toBe(0);
    await expect(w.page.getByTestId('draft-promote').count()).resolves.toBe(0);

    await w.page.getByTestId('draft-validate').click();
    await w.page.getByTestId('draft-promote').waitFor();
    await expect(w.page.getByTestId('draft-validation').textContent()).resolves.toMatch(/^valid/);
    await w.page.getByTestId('draft-promote').click();
    await w.page.waitForURL((u) => u.pathname === '/ui/blueprints/ui.greeter');
    await expect(w.page.getByTestId('blueprint-version').textContent()).resolves.toMatch(/^v1, promoted .* by admiral/);
    await expect(w.page.getByTestId('blueprint-text').textContent()).resolves.toBe(blueprint('ui.greeter'));
    await expect(w.page.getByTestId('input-row').allTextContents()).resolves.toEqual([expect.stringMatching(/who\s*no\s*"world"/)]);
    expect(await w.page.getByTestId('launch-run').getAttribute('href')).toBe('/ui/runs/new?blueprint=ui.greeter');
    await expect(w.page.getByTestId('version-row').count()).resolves.toBe(1);
    await expectAccessible(w.page);
    await screenshot(w.page, 'blueprint-detail');

    await w.page.getByTestId('nav-blueprints').click();
    await w.page.waitForURL((u) => u.pathname === '/ui/blueprints');
    const row = w.page.locator('[data-testid=blueprint-row][data-blueprint-id="ui.greeter"]');
    await expect(row.getByTestId('blueprint-active').textContent()).resolves.toMatch(/^v1 /);
    await expect(row.textContent()).resolves.toContain('ui.test.never');
    const draftRow = w.page.locator(`[data-testid=draft-row][data-draft-id="${draftId}"]`);
    await expect(draftRow.getByTestId('draft-status').textContent()).resolves.toContain('promoted');
    await expect(draftRow.getByTestId('draft-validation').textContent()).resolves.toBe('valid');
    await expectAccessible(w.page);
    await screenshot(w.page, 'blueprints');
    expectClean(w);
    await w.context.close();
  });

  it('lists an issue no line holds above the text; a syntax error on its line', async () => {
    const nameless = await api<{ draft_id: string }>('POST', '/api/v1/drafts', { text: blueprint('ui.nameless').replace('name: "UI test blueprint"\n', '') });
    await api('POST', `/api/v1/drafts/${nameless.draft_id}/validate`, {});
    const unclosed = await api<{ draft_id: string }>('POST', '/api/v1/drafts', { text: blueprint('ui.unclosed').replace('"world"', '[unclosed') });
    await api('POST', `/api/v1/drafts/${unclosed.draft_id}/validate`, {});

    const w = await openPage(chrome.browser, node.serve.url);
    await signIn(w.page, node.admiral, `/ui/drafts/${nameless.draft_id}`);
    await expect(w.page.getByTestId('issue-unplaced').allTextContents()).resolves.toEqual(['name: required']);
    await expect(w.page.getByTestId('issue-line').count()).resolves.toBe(0);
    await w.page.goto(`/ui/drafts/${unclosed.draft_id}`);
    const lines = await w.page.getByTestId('issue-line').evaluateAll((ls) => ls.map((l) => l.getAttribute('data-line')));
    expect(lines.length).toBeGreaterThan(0);
    await expect(w.page.getByTestId('issue-note').first().textContent()).resolves.toContain('not valid YAML at line');
    expectClean(w);
    await w.context.close();
  });

  it('shows an operator no promote button, and refuses the promote form 403 if posted anyway', async () => {
    const { token } = await api<{ token: string }>('POST', '/api/v1/tokens', { principal: 'otto', role: 'operator' });
    const saved = await api<{ draft_id: string; revision: number }>('POST', '/api/v1/drafts', { text: blueprint('ui.operator_only') }, token);
    await api('POST', `/api/v1/drafts/${saved.draft_id}/validate`, {}, token);

    const w = await openPage(chrome.browser, node.serve.url);
    await signIn(w.page, token, `/ui/drafts/${saved.draft_id}`);
    await expect(w.page.getByTestId('draft-validation').textContent()).resolves.toMatch(/^valid/);
    await w.page.getByTestId('draft-validate').waitFor();
    await expect(w.page.getByTestId('draft-promote').count()).resolves.toBe(0);
    const csrf = await w.page.locator('input[name=_csrf]').first().inputValue();
    const answer = await w.page.evaluate(
      async ({ path, csrf }) => {
        const res = await fetch(path, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, revision: '1' }) });
        return { status: res.status, text: await res.text() };
      },
      { path: `/ui/drafts/${saved.draft_id}/promote`, csrf },
    );
    expect(answer.status).toBe(403);
    expect(answer.text).toContain('xyn:blueprints:promote');
    const blueprints = await api<{ items: { blueprint_id: string }[] }>('GET', '/api/v1/blueprints');
    expect(blueprints.items.map((b) => b.blueprint_id)).not.toContain('ui.operator_only');
    await expectAccessible(w.page);
    // The 403 the fetch met is the test's own doing, not the page's.
    expect(w.problems.filter((p) => !p.includes('403'))).toEqual([]);
    await w.context.close();
  });

  it('answers bad input with a 4xx naming what is wrong, never a 5xx', async () => {
    const headers = { cookie: `xyn_session=${node.admiral}` };
    const get = (path: string) => fetch(`${node.serve.url}${path}`, { headers, redirect: 'manual' });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await (await get('/ui/drafts/new')).text())?.[1] as string;
    const post = (path: string, fields: Record<string, string>) =>
      fetch(`${node.serve.url}${path}`, { method: 'POST', redirect: 'manual', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, ...fields }) });
    const cases: [Promise<Response>, number, string][] = [
      [get('/ui/blueprints/Upper'), 400, 'a blueprint id'],
      [get('/ui/blueprints/no.such'), 404, 'no promoted blueprint no.such'],
      [get('/ui/blueprints/no.such?versions_after=zero'), 400, 'cursor'],
      [get('/ui/blueprints?drafts_after=..%2F'), 400, 'cursor'],
      [get('/ui/drafts/draft_0123456789abcdef'), 404, 'no draft draft_0123456789abcdef'],
      [get('/ui/drafts/new?draft_id=nope'), 400, 'draft_id'],
      [post('/ui/drafts', { text: '  \n' }), 400, 'paste the blueprint YAML'],
      [post('/ui/drafts', { text: blueprint('ui.other'), draft_id: 'draft_0123456789abcdef' }), 404, 'no draft draft_0123456789abcdef'],
      [post('/ui/drafts/draft_0123456789abcdef/promote', { revision: 'one' }), 400, 'revision'],
      [post('/ui/drafts/draft_0123456789abcdef/validate', {}), 404, 'no draft'],
    ];
    for (const [answer, status, says] of cases) {
      const res = await answer;
      const text = await res.text();
      expect(res.status, `${res.url}: ${text.slice(0, 300)}`).toBe(status);
      expect(text).toContain(says);
    }
  });
});
