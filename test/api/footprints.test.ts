/**
 * Footprints and impressions over HTTP, against a real `xyn serve` given an
 * impression rule file: a run's rows and labels, the node's rows newest
 * first filtered and paged by cursor with the rollups of the selection, and
 * refusals as 4xx naming why; a rule file with a mistake stops `xyn serve`
 * with exit 2 naming the rule and field.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servePerSuite, xynSync } from '../helpers/cli.ts';
import { waitFor } from '../kernel/helpers.ts';

const files = mkdtempSync(join(tmpdir(), 'xyn-fp-rules-'));
const RULES = join(files, 'rules.yaml');
writeFileSync(RULES, 'impressions:\n  - label: long\n    when: (footprints["step.count"] ?? 0) >= 2\n  - label: done\n    when: run.status == "completed"\n');
afterAll(() => rmSync(files, { recursive: true, force: true }));

const suite = servePerSuite({ XYN_IMPRESSION_RULES: RULES });

type Json = Record<string, unknown>;
type Row = { footprint_id: string; run_id: string; step_id: string | null; blueprint_id: string; metric: string; quantity: number; source_kind: string };

async function call(method: string, path: string, body?: unknown, token: string | null = suite.admiral): Promise<{ status: number; body: Json }> {
  const res = await fetch(suite.serve.url + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

async function ok(method: string, path: string, body?: unknown): Promise<Json> {
  const answer = await call(method, path, body);
  expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
  return answer.body;
}

async function promote(bp: Json): Promise<void> {
  const saved = await ok('POST', '/api/v1/drafts', { text: JSON.stringify(bp), file_name: `${bp.id as string}.json` });
  await ok('POST', `/api/v1/drafts/${saved.draft_id as string}/validate`, {});
  await ok('POST', `/api/v1/drafts/${saved.draft_id as string}/promote`, { revision: saved.revision });
}

const TWO = { id: 'fp.two', name: 'two', trigger: { event_type: 'app.never' }, plan: [{ kind: 'transform', id: 'a', outputs: { x: 1 } }, { kind: 'transform', id: 'b', outputs: { y: 2 } }] };
const ONE = { id: 'fp.one', name: 'one', trigger: { event_type: 'app.never' }, plan: [{ kind: 'transform', id: 'only', outputs: { z: 3 } }] };
const runIds: string[] = [];

beforeAll(async () => {
  await promote(TWO);
  await promote(ONE);
  for (const ref of ['fp.two', 'fp.one', 'fp.two']) runIds.push((await ok('POST', '/api/v1/runs', { blueprint_ref: ref })).run_id as string);
  // Judged once ended: the impressions are the last thing a run gets.
  for (const id of runIds) await waitFor(async () => ((await ok('GET', `/api/v1/runs/${id}/footprints`)).impressions as unknown[]).length > 0, 10_000, `run ${id} judged`);
}, 60_000);

describe('GET /api/v1/runs/{id}/footprints', () => {
  it("a run's rows in the order recorded, and its impressions", async () => {
    const body = await ok('GET', `/api/v1/runs/${runIds[0] as string}/footprints`);
    const items = body.items as Row[];
    expect(items.map((r) => [r.source_kind, r.step_id, r.metric])).toEqual([
      ['run', null, 'run.count'],
      ['step', 'a', 'step.count'],
      ['step', 'a', 'wall_ms'],
      ['step', 'b', 'step.count'],
      ['step', 'b', 'wall_ms'],
    ]);
    expect(items.every((r) => r.run_id === runIds[0] && r.blueprint_id === 'fp.two')).toBe(true);
    expect(body.impressions).toEqual([
      { label: 'long', value: true, rule: 0 },
      { label: 'done', value: true, rule: 1 },
    ]);
    expect((await ok('GET', `/api/v1/runs/${runIds[1] as string}/footprints`)).impressions).toEqual([{ label: 'done', value: true, rule: 1 }]);
  });

  it('404 for a run that is not there, 400 for an id that is not one, 401 without a token', async () => {
    expect((await call('GET', '/api/v1/runs/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/footprints')).status).toBe(404);
    expect((await call('GET', '/api/v1/runs/nope/footprints')).status).toBe(400);
    expect((await call('GET', `/api/v1/runs/${runIds[0] as string}/footprints`, undefined, null)).status).toBe(401);
  });
});

describe('GET /api/v1/footprints', () => {
  it('rows newest first, a page at a time by cursor, with rollups per blueprint and metric', async () => {
    const first = await ok('GET', '/api/v1/footprints?metric=run.count&limit=2');
    const second = await ok('GET', `/api/v1/footprints?metric=run.count&limit=2&cursor=${first.next_cursor as string}`);
    const rows = [...(first.items as Row[]), ...(second.items as Row[])];
    expect(second.next_cursor).toBeNull();
    expect(rows.map((r) => r.run_id)).toEqual([...runIds].reverse());
    expect(first.rollups).toEqual(
      expect.arrayContaining([
        { blueprint_id: 'fp.two', metric: 'run.count', unit: 'count', sum: 2, count: 2 },
        { blueprint_id: 'fp.one', metric: 'run.count', unit: 'count', sum: 1, count: 1 },
      ]),
    );
    expect(first.rollups).toHaveLength(2);

    const all = await ok('GET', '/api/v1/footprints?limit=500');
    expect((all.items as Row[]).length).toBe(3 + 2 * 4 + 2);
    const ids = (all.items as Row[]).map((r) => r.footprint_id);
    expect(ids).toEqual([...ids].sort().reverse());
  });

  it('filtered by blueprint and since; rollups of the same selection', async () => {
    const one = await ok('GET', '/api/v1/footprints?blueprint=fp.one');
    expect((one.items as Row[]).map((r) => r.metric).sort()).toEqual(['run.count', 'step.count', 'wall_ms']);
    expect((one.rollups as Json[]).map((r) => [r.blueprint_id, r.metric, r.sum, r.count]).filter(([, m]) => m !== 'wall_ms')).toEqual([
      ['fp.one', 'run.count', 1, 1],
      ['fp.one', 'step.count', 1, 1],
    ]);
    const steps = await ok('GET', '/api/v1/footprints?blueprint=fp.two&metric=step.count');
    expect((steps.items as Row[]).length).toBe(4);
    expect(steps.rollups).toEqual([{ blueprint_id: 'fp.two', metric: 'step.count', unit: 'count', sum: 4, count: 4 }]);

    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect(await ok('GET', `/api/v1/footprints?since=${tomorrow}`)).toEqual({ items: [], next_cursor: null, rollups: [] });
    const today = new Date().toISOString().slice(0, 10);
    expect(((await ok('GET', `/api/v1/footprints?since=${today}&metric=run.count`)).items as Row[]).length).toBe(3);
  });

  it('refuses a query it cannot read with a 400 naming the field', async () => {
    for (const [query, field] of [['metric=Wall%20Ms', 'metric'], ['cursor=abc', 'cursor'], ['since=soon', 'since'], ['limit=0', 'limit'], ['blueprint=BAD', 'blueprint']] as const) {
      const answer = await call('GET', `/api/v1/footprints?${query}`);
      expect(answer.status, query).toBe(400);
      expect(JSON.stringify(answer.body.error), query).toContain(field);
    }
  });
});

describe('xyn serve with a bad rule file', () => {
  it('exits 2 naming the rule and the field, before serving', () => {
    const bad = join(files, 'bad.yaml');
    writeFileSync(bad, 'impressions:\n  - label: slow\n    when: run.seconds > 10\n');
    const r = xynSync(['serve', '--data', join(files, 'data'), '--port', '0'], { XYN_IMPRESSION_RULES: bad });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`XYN_IMPRESSION_RULES: ${bad}: impressions[0].when (rule slow): "run.seconds": run has no field "seconds"`);
  });
});
