/**
 * The artifact pages, in Debian's chromium against a real `xyn serve`:
 * artifacts uploaded through the API are listed, filtered by kind, run and
 * name and paged; their previews show text, pretty JSON, JSON lines and an image;
 * a download from the page is the uploaded bytes (same sha256), as an
 * attachment; an HTML artifact is shown as its source and never runs.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servePerSuite } from '../helpers/cli.ts';
import { browserPerSuite, expectAccessible, expectClean, openPage, screenshot, signIn, type WatchedPage } from './browser.ts';

const node = servePerSuite();
const chrome = browserPerSuite();

interface Artifact {
  artifact_id: string;
  name: string;
  sha256: string;
}

/** A 2×2 RGBA PNG: a valid image chromium decodes. */
function tinyPng(): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(2, 0);
  header.writeUInt32BE(2, 4);
  header.set([8, 6, 0, 0, 0], 8);
  // Each row: filter byte 0, then two RGBA pixels.
  const rows = Buffer.from([0, 255, 0, 0, 255, 0, 0, 255, 255, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255]);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

const RUN = randomUUID();
const JSON_VALUE = { answer: 42, list: [1, 'two'], nested: { ok: true } };
const HTML = '<!doctype html><title>page</title><script>document.title = "pwned"; document.body.id = "pwned";</script><p>hi</p>';
const BIG = 'x'.repeat(300 * 1024);
const made: Record<string, Artifact> = {};
/** One signed-in page for every test: signing in is not what is tested here (session.test.ts does). */
let w: WatchedPage;

async function upload(name: string, kind: string, contentType: string, body: Buffer | string, runId?: string): Promise<Artifact> {
  const query = new URLSearchParams({ name, kind, ...(runId ? { run_id: runId } : {}) });
  const res = await fetch(`${node.serve.url}/api/v1/artifacts?${query.toString()}`, { method: 'POST', headers: { authorization: `Bearer ${node.admiral}`, 'content-type': contentType }, body });
  expect(res.status).toBe(201);
  return (await res.json()) as Artifact;
}

/** A GET of a page with the admiral's session cookie, as a browser without a page would send it. */
function fetchPage(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${node.serve.url}${path}`, { headers: { cookie: `xyn_session=${node.admiral}`, ...headers } });
}

const rowNames = (page: Page): Promise<string[]> => page.getByTestId('artifact-link').allTextContents();

beforeAll(async () => {
  made.text = await upload('notes.txt', 'report', 'text/plain; charset=utf-8', 'hello, artifacts\nsecond line <b>not bold</b>\n', RUN);
  made.json = await upload('result.json', 'report', 'application/json', JSON.stringify(JSON_VALUE), RUN);
  made.lines = await upload('probe.log', 'log', 'application/x-ndjson', '{"level":"info","msg":"started"}\n{"level":"info", "msg": "done"}\n', RUN);
  made.png = await upload('dot.png', 'image', 'image/png', tinyPng());
  made.html = await upload('page.html', 'file', 'text/html', HTML);
  made.big = await upload('big.txt', 'file', 'text/plain', BIG);
  w = await openPage(chrome.browser, node.serve.url);
  await signIn(w.page, node.admiral, '/ui/artifacts');
});
afterAll(async () => {
  await w?.context.close();
});

describe('the artifact pages', () => {
  it('list the artifacts, filtered by kind, run and name, a page at a time', async () => {
    await w.page.goto('/ui/artifacts');
    expect(await rowNames(w.page)).toEqual(['big.txt', 'page.html', 'dot.png', 'probe.log', 'result.json', 'notes.txt']);

    await w.page.getByTestId('filter-kind').fill('report');
    await w.page.getByTestId('filter-apply').click();
    await expect.poll(() => rowNames(w.page)).toEqual(['result.json', 'notes.txt']);
    await w.page.waitForURL((u) => u.searchParams.get('kind') === 'report');

    await w.page.getByTestId('filter-kind').fill('');
    await w.page.getByTestId('filter-run').fill(RUN);
    await w.page.getByTestId('filter-apply').click();
    await expect.poll(() => rowNames(w.page)).toEqual(['probe.log', 'result.json', 'notes.txt']);
    expect(await w.page.locator(`a[href="/ui/runs/${RUN}"]`).count()).toBe(3);

    await w.page.getByTestId('filter-name').fill('JSON');
    await w.page.getByTestId('filter-apply').click();
    await expect.poll(() => rowNames(w.page)).toEqual(['result.json']);
    await w.page.getByTestId('filter-name').fill('');

    await w.page.getByTestId('filter-run').fill('not-a-run');
    await w.page.getByTestId('filter-apply').click();
    await expect(w.page.getByTestId('artifact-filter-error').textContent()).resolves.toContain('run id');

    await w.page.goto('/ui/artifacts?limit=4');
    expect(await rowNames(w.page)).toEqual(['big.txt', 'page.html', 'dot.png', 'probe.log']);
    await expectAccessible(w.page);
    await screenshot(w.page, 'artifacts');
    await w.page.getByTestId('artifact-next').click();
    await expect.poll(() => rowNames(w.page)).toEqual(['result.json', 'notes.txt']);
    expect(await w.page.getByTestId('artifact-next').count()).toBe(0);
    await w.page.getByTestId('artifact-first').click();
    await expect.poll(() => rowNames(w.page)).toEqual(['big.txt', 'page.html', 'dot.png', 'probe.log']);
    expectClean(w);
  });

  it('refuses a bad filter or id with a 4xx naming it, and shows a pending artifact without bytes', async () => {
    const res = await fetchPage('/ui/artifacts?kind=Not%20A%20Kind');
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('expected a kind');
    const malformed = await fetchPage('/ui/artifacts/nope');
    expect(malformed.status).toBe(400);
    expect(await malformed.text()).toContain('an artifact id: a UUID');
    expect((await fetchPage(`/ui/artifacts/${randomUUID()}`)).status).toBe(404);

    const created = await fetch(`${node.serve.url}/api/v1/artifacts`, { method: 'POST', headers: { authorization: `Bearer ${node.admiral}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'later.txt', content_type: 'text/plain' }) });
    const pending = (await created.json()) as Artifact;
    await w.page.goto(`/ui/artifacts/${pending.artifact_id}`);
    await expect(w.page.getByTestId('preview-none').textContent()).resolves.toContain('not uploaded yet');
    expect(await w.page.getByTestId('artifact-download').count()).toBe(0);
    expectClean(w);
  });

  it('previews text, pretty JSON, JSON lines and images, and says when it shows only the start', async () => {
    await w.page.goto(`/ui/artifacts/${made.text?.artifact_id}`);
    await expect(w.page.getByTestId('preview-text').textContent()).resolves.toBe('hello, artifacts\nsecond line <b>not bold</b>\n');
    expect(await w.page.locator('.artifact-preview b').count()).toBe(0);
    await expect(w.page.getByTestId('artifact-run').getAttribute('href')).resolves.toBe(`/ui/runs/${RUN}`);

    await w.page.goto(`/ui/artifacts/${made.json?.artifact_id}`);
    await expect(w.page.getByTestId('preview-json').textContent()).resolves.toBe(JSON.stringify(JSON_VALUE, null, 2));
    await expect(w.page.getByTestId('artifact-sha256').textContent()).resolves.toBe(made.json?.sha256);
    await expectAccessible(w.page);
    await screenshot(w.page, 'artifact-detail');

    await w.page.goto(`/ui/artifacts/${made.lines?.artifact_id}`);
    await expect(w.page.getByTestId('preview-jsonl').locator('li').allTextContents()).resolves.toEqual(['{"level":"info","msg":"started"}', '{"level":"info","msg":"done"}']);

    await w.page.goto(`/ui/artifacts/${made.png?.artifact_id}`);
    const image = w.page.getByTestId('preview-image');
    await expect.poll(() => image.evaluate((img) => { const shown = img as unknown as { complete: boolean; naturalWidth: number }; return shown.complete ? shown.naturalWidth : 0; })).toBe(2);

    await w.page.goto(`/ui/artifacts/${made.big?.artifact_id}`);
    await expect(w.page.getByTestId('preview-cut').textContent()).resolves.toContain('256.0 KiB of 300.0 KiB');
    expect((await w.page.getByTestId('preview-text').textContent())?.length).toBe(256 * 1024);
    expectClean(w);
  });

  it('downloads the bytes from the page: an attachment with the sha256 of the upload, one range when asked', async () => {
    await w.page.goto(`/ui/artifacts/${made.png?.artifact_id}`);
    const [download] = await Promise.all([w.page.waitForEvent('download'), w.page.getByTestId('artifact-download').click()]);
    expect(download.suggestedFilename()).toBe('dot.png');
    expect(createHash('sha256').update(readFileSync(await download.path())).digest('hex')).toBe(made.png?.sha256);

    const range = await fetchPage(`/ui/artifacts/${made.text?.artifact_id}/download`, { range: 'bytes=0-4' });
    expect(range.status).toBe(206);
    expect(await range.text()).toBe('hello');
    expectClean(w);
  });

  it('never renders an HTML artifact as HTML: its preview is its source, its download an attachment that runs nothing', async () => {
    await w.page.goto(`/ui/artifacts/${made.html?.artifact_id}`);
    await expect(w.page.getByTestId('preview-text').textContent()).resolves.toBe(HTML);
    expect(await w.page.title()).toBe('Artifact page.html · xyn');
    expect(await w.page.locator('#pwned').count()).toBe(0);

    const [download] = await Promise.all([w.page.waitForEvent('download'), w.page.getByTestId('artifact-download').click()]);
    expect(download.suggestedFilename()).toBe('page.html');
    expect(readFileSync(await download.path(), 'utf8')).toBe(HTML);
    expect(await w.page.title()).toBe('Artifact page.html · xyn');

    const answer = await fetchPage(`/ui/artifacts/${made.html?.artifact_id}/download`);
    expect(answer.headers.get('content-disposition')).toMatch(/^attachment; filename="page.html"/);
    expect(answer.headers.get('content-security-policy')).toMatch(/^sandbox/);
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    const inline = await fetchPage(`/ui/artifacts/${made.html?.artifact_id}/raw`);
    expect(inline.status).toBe(415);
    expect(await inline.text()).toContain('only png, jpeg, gif and webp');
    expectClean(w);
  });
});
