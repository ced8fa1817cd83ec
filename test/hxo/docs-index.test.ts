/**
 * The `docs.index` kind (seed 002) on a real docs folder it creates: one
 * shard per route of the route map, each page indexed into an artifact in
 * the CAS; outputs follow the seed's schema; an edited page runs again while
 * the rest are memoized; a bad route map is refused naming the field.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decode } from '../../src/core/codec.ts';
import { Cas } from '../../src/store/cas.ts';
import { PlanError } from '../../src/hxo/engine-errors.ts';
import type { PlanReport } from '../../src/hxo/report.ts';
import { tempDir } from '../kernel/helpers.ts';
import { runForOutputs, startNode, type TestNode } from './helpers.ts';

const PAGES: Record<string, [file: string, text: string]> = {
  '/': ['index.md', '# Welcome\n\nxyn shards huge jobs. Shards are checkpointed.\n'],
  '/guide/start': ['guide/start.md', '# Getting started\n\nRun a plan, then verify the report.\n'],
  '/api': ['api.md', 'No heading here: just API words, words, words.\n'],
};

/** The seed 002 output schema of docs.index (plus our fields). */
const outputSchema = z.object({
  status: z.literal('indexed'),
  route: z.string(),
  docs_indexed: z.number().int(),
  title: z.string(),
  terms: z.number().int(),
  index: z.string().regex(/^[0-9a-f]{64}$/),
});

const dir = tempDir();
const docs = join(dir.path, 'site');
let node: TestNode;

function writePages(pages: Record<string, [string, string]>, map = 'routes.json'): void {
  for (const [file, text] of Object.values(pages)) {
    mkdirSync(join(docs, file, '..'), { recursive: true });
    writeFileSync(join(docs, file), text);
  }
  writeFileSync(join(docs, map), JSON.stringify(Object.fromEntries(Object.entries(pages).map(([route, [file]]) => [route, file]))));
}

function plan(name: string, config: Record<string, unknown> = { root: 'site' }) {
  return { name, stages: [{ id: 'docs', kind: 'docs.index', partitioner: 'by_route_map', executor: 'docs_index', config }] };
}

beforeAll(async () => {
  writePages(PAGES);
  node = await startNode({}, join(dir.path, 'data'));
});
afterAll(async () => {
  await node.close();
  dir.cleanup();
});

describe('docs.index', () => {
  let first: PlanReport;

  it('indexes every route of the route map (root relative to the plan) into CAS artifacts and certifies', async () => {
    const { report, outputs: out } = await runForOutputs(node, plan('docs'), dir.path, (o) => outputSchema.parse(o));
    first = report;
    expect(first).toMatchObject({ state: 'certified', total_shards: 3, done_shards: 3, reused_shards: 0 });
    expect(out.map((o) => o.route)).toEqual(['/', '/api', '/guide/start']);
    expect(out.map((o) => o.title)).toEqual(['Welcome', '/api', 'Getting started']);
    const cas = new Cas(node.kernel.store);
    const api = decode(cas.get(out[1]?.index as string) as Uint8Array) as { words: number; terms: Record<string, number> };
    expect(api.terms).toMatchObject({ words: 3, api: 1, heading: 1 });
    expect(api.words).toBe(8);
    expect(Object.keys(api.terms)).toEqual(Object.keys(api.terms).sort());
  });

  it('after one page changes, a new plan runs that page again and reuses the others', async () => {
    writePages({ ...PAGES, '/api': ['api.md', '# API\n\nEndpoints and more endpoints.\n'] });
    const report = await (await node.engine.submit(plan('docs-again'), { baseDir: dir.path })).finished;
    expect(report).toMatchObject({ state: 'certified', done_shards: 3, reused_shards: 2 });
    expect(report.merkle_root).not.toBe(first.merkle_root);
  });

  it.each([
    ['a missing route map', { root: 'site', route_map: 'nope.json' }, /^stages\[0\]\.config\.route_map: cannot read the route map .*nope\.json: ENOENT/],
    ['a route map that is not an object of strings', { root: 'site', route_map: 'bad.json' }, /^stages\[0\]\.config\.route_map: .*must map routes to files/],
    ['a page outside the root', { root: 'site', route_map: 'escape.json' }, /^stages\[0\]\.config\.route_map: route \/x: \.\.\/secret\.md is outside/],
    ['no root', {}, /^stages\[0\]\.config\.root: /],
  ])('refuses %s, naming the field, and writes nothing', async (_what, config, message) => {
    writeFileSync(join(docs, 'bad.json'), JSON.stringify({ '/': 3 }));
    writeFileSync(join(docs, 'escape.json'), JSON.stringify({ '/x': '../secret.md' }));
    writeFileSync(join(dir.path, 'secret.md'), 'secret');
    const before = node.engine.list().length;
    const err = await node.engine.submit(plan('bad', config), { baseDir: dir.path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanError);
    expect((err as Error).message).toMatch(message);
    expect(node.engine.list()).toHaveLength(before);
  });
});
