/**
 * Verifying a report in the browser (`/ui/verify`), in Debian's chromium
 * against a real `xyn serve` that ran a real plan: the report file passes
 * every check without signing in and without a request to the node; one
 * changed hex digit in a proof path, the signature or the Merkle root is
 * shown as exactly the check it breaks; `?plan=ID` fetches the plan's report
 * from the node (signed in) and verifies it the same way.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { servePerSuite } from '../helpers/cli.ts';
import { computeHashPlan } from '../hxo/helpers.ts';
import { waitFor } from '../kernel/helpers.ts';
import { Assets } from '../../src/ui/assets.ts';
import { browserPerSuite, expectAccessible, expectClean, openPage, screenshot, signIn } from './browser.ts';

const node = servePerSuite();
const chrome = browserPerSuite();

interface Report {
  plan_id: string;
  merkle_root: string;
  certificate: { signature: string; public_key: string };
  sample_proofs: { path: { hash: string }[] }[];
}

/** The report as a file: indented JSON, as `xyn run --json` writes it. */
const asFile = (report: unknown): string => JSON.stringify(report, null, 2);

/** Changes the hex digit at `at`, so exactly one byte of the file changes. */
const flipHex = (hex: string, at: number): string => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);

let report: Report;

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${node.serve.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${node.admiral}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  const submitted = await api('POST', '/api/hxo/create-and-submit', computeHashPlan('verify-in-browser', 64));
  expect(submitted.status).toBe(202);
  const planId = submitted.json.plan_id as string;
  await waitFor(async () => (await api('GET', `/api/hxo/status/${planId}`)).json.truth_certified === true, 60_000, 'the plan to be certified');
  report = (await api('GET', `/api/hxo/report/${planId}`)).json as unknown as Report;
}, 90_000);

/** The fields of the page's check lines, those that pass and those that fail. */
async function checkLines(page: Page): Promise<{ passing: string[]; failing: string[]; problems: string[] }> {
  const lines = await page.getByTestId('check').evaluateAll((els) => els.map((el) => ({ field: el.getAttribute('data-field') ?? '', ok: el.getAttribute('data-ok') === 'true' })));
  return {
    passing: lines.filter((l) => l.ok).map((l) => l.field),
    failing: lines.filter((l) => !l.ok).map((l) => l.field),
    problems: await page.getByTestId('check-problem').allTextContents(),
  };
}

async function verdict(page: Page, state: 'ok' | 'rejected'): Promise<string> {
  await page.locator(`[data-testid="verify-verdict"][data-state="${state}"]`).waitFor();
  return (await page.getByTestId('verify-verdict').textContent()) ?? '';
}

async function loadFile(page: Page, text: string): Promise<void> {
  await page.getByTestId('verify-file').setInputFiles({ name: 'report.json', mimeType: 'application/json', buffer: Buffer.from(text) });
}

const proofFields = (): string[] => report.sample_proofs.map((_, i) => `sample_proofs[${i}]`);
const ALL_BUT_PROOFS = ['report', 'truth_certified', 'certificate.certificate_id', 'certificate.signature', 'certificate.merkle_root', 'certificate.total_shards'];

describe('verifying a report in the browser', () => {
  it('passes every check of a report file without signing in, with no request to the node, and names the check a changed byte breaks', async () => {
    const w = await openPage(chrome.browser, node.serve.url);
    await w.page.goto('/ui/verify');
    expect(new URL(w.page.url()).pathname).toBe('/ui/verify');
    await w.page.locator('body[data-verifier-ready="true"]').waitFor();
    const requests: string[] = [];
    w.page.on('request', (r) => requests.push(r.url()));

    const original = asFile(report);
    await loadFile(w.page, original);
    expect(await verdict(w.page, 'ok')).toContain(`all ${ALL_BUT_PROOFS.length + report.sample_proofs.length} checks`);
    expect(report.sample_proofs.length).toBeGreaterThanOrEqual(16);
    expect(await checkLines(w.page)).toEqual({ passing: [...ALL_BUT_PROOFS, ...proofFields()], failing: [], problems: [] });
    // The signature line names the key that signed.
    await expect(w.page.locator('[data-field="certificate.signature"]').textContent()).resolves.toContain(report.certificate.public_key);
    await expectAccessible(w.page);
    await screenshot(w.page, 'verify-ok');

    const tampered = (edit: (r: Report) => void): string => {
      const copy = structuredClone(report);
      edit(copy);
      const text = asFile(copy);
      expect([...text].filter((c, i) => c !== original[i]).length).toBe(1);
      return text;
    };
    const pathStep = report.sample_proofs[3]?.path[0];
    if (!pathStep) throw new Error('fixture: sample proof 3 has a path');

    await loadFile(w.page, tampered((r) => ((r.sample_proofs[3]?.path[0] as { hash: string }).hash = flipHex(pathStep.hash, 10))));
    expect(await verdict(w.page, 'rejected')).toContain('first: sample_proofs[3]: path does not lead to merkle_root');
    expect(await checkLines(w.page)).toEqual({
      passing: [...ALL_BUT_PROOFS, ...proofFields().filter((f) => f !== 'sample_proofs[3]')],
      failing: ['sample_proofs[3]'],
      problems: ['sample_proofs[3]: path does not lead to merkle_root'],
    });
    await expectAccessible(w.page);
    await screenshot(w.page, 'verify-tampered');

    await loadFile(w.page, tampered((r) => (r.certificate.signature = flipHex(r.certificate.signature, 40))));
    await verdict(w.page, 'rejected');
    const badSignature = await checkLines(w.page);
    expect(badSignature.failing).toEqual(['certificate.signature']);
    expect(badSignature.problems).toEqual(['certificate.signature: not a valid signature by certificate.public_key over this plan_id, merkle_root, total_shards and timestamp']);

    // One digit of the root: the certificate no longer signs it, and no proof leads to it; the signature itself still holds.
    await loadFile(w.page, tampered((r) => (r.merkle_root = flipHex(r.merkle_root, 20))));
    await verdict(w.page, 'rejected');
    const badRoot = await checkLines(w.page);
    expect(badRoot.failing).toEqual(['certificate.merkle_root', ...proofFields()]);
    expect(badRoot.passing).toEqual(['report', 'truth_certified', 'certificate.certificate_id', 'certificate.signature', 'certificate.total_shards']);
    expect(badRoot.problems).toContain('sample_proofs[0]: path does not lead to merkle_root');

    // Pasted JSON, and a key the certificate must have been signed by.
    await w.page.getByTestId('verify-text').fill(original);
    await w.page.getByTestId('verify-key').fill(flipHex(report.certificate.public_key, 5));
    await w.page.getByTestId('verify-submit').click();
    await verdict(w.page, 'rejected');
    expect((await checkLines(w.page)).failing).toEqual(['certificate.public_key']);
    await w.page.getByTestId('verify-key').fill(report.certificate.public_key);
    await w.page.getByTestId('verify-key').press('Enter');
    await verdict(w.page, 'ok');
    expect((await checkLines(w.page)).passing).toContain('certificate.public_key');

    await w.page.getByTestId('verify-text').fill('{"plan_id": ');
    await w.page.getByTestId('verify-submit').click();
    await verdict(w.page, 'rejected');
    expect((await checkLines(w.page)).problems[0]).toMatch(/^report: not JSON: /);

    expect(requests).toEqual([]);
    expectClean(w);
    await w.context.close();
  });

  it('fetches a plan report from the node with ?plan=ID (signed in) and verifies it there too', async () => {
    const w = await openPage(chrome.browser, node.serve.url);
    const page = `/ui/verify?plan=${report.plan_id}`;
    await w.page.goto(page);
    expect(new URL(w.page.url()).pathname).toBe('/ui/login');
    await signIn(w.page, node.admiral, page);
    expect(await verdict(w.page, 'ok')).toContain('the report from this node');
    expect((await checkLines(w.page)).failing).toEqual([]);
    const download = w.page.getByTestId('verify-download');
    expect(await download.getAttribute('href')).toBe(`/ui/plans/${report.plan_id}/report.json`);
    await expectAccessible(w.page);
    expectClean(w);
    await w.context.close();
  });

  it('serves a plan report as a JSON download to a session with hxo:view, and names what is wrong otherwise', async () => {
    const get = (path: string, cookie = '') => fetch(`${node.serve.url}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    const session = `xyn_session=${node.admiral}`;
    const file = await get(`/ui/plans/${report.plan_id}/report.json`, session);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toMatch(/^application\/json/);
    expect(file.headers.get('content-disposition')).toBe(`attachment; filename="report-${report.plan_id}.json"`);
    expect(await file.json()).toEqual(report);

    const anonymous = await get(`/ui/plans/${report.plan_id}/report.json`);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toMatch(/^\/ui\/login\?next=/);
    const missing = await get('/ui/plans/no-such-plan/report.json', session);
    expect(missing.status).toBe(404);
    const badId = await get('/ui/verify?plan=not%20a%20plan', session);
    expect(badId.status).toBe(400);
    expect(await badId.text()).toContain('expected a plan id');
  });

  it('bundles the page script and its worker for a browser, with no Node built-in', async () => {
    const assets = new Assets();
    for (const name of ['verify.js', 'verify-worker.js']) {
      const bundle = (await assets.get(name)).bytes.toString('utf8');
      expect(bundle).not.toMatch(/\bnode:|\brequire\(|\bBuffer\b/);
    }
  });
});
