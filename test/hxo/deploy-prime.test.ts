/**
 * `deploy.prime` (seed 002) against a real HTTP server on loopback: modules
 * (workspaces) or dependency levels as shards, each module's registry or
 * cache endpoint called and recorded; a 503 is retried; warming runs every
 * time (not memoized); a dependency cycle and a bad base_url are refused.
 */
import { createServer, type Server } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PlanError } from '../../src/hxo/engine-errors.ts';
import { tempDir } from '../kernel/helpers.ts';
import { runForOutputs, startNode, type TestNode } from './helpers.ts';

const outputSchema = z.object({
  status: z.enum(['warmed', 'primed']),
  module: z.string(),
  cache_entries: z.number().int(),
  warmed: z.array(z.object({ url: z.string(), status: z.number().int(), bytes: z.number().int() })),
});

const pkg = (name: string, deps: string[] = []) => JSON.stringify({ name, dependencies: Object.fromEntries(deps.map((d) => [d, '*'])) });
const TREE: Record<string, string> = {
  'package.json': JSON.stringify({ workspaces: ['packages/*'] }),
  'packages/core/package.json': pkg('@demo/core', ['left-pad']),
  'packages/core/index.js': 'core',
  'packages/util/package.json': pkg('@demo/util'),
  'packages/util/index.js': 'util',
  'packages/web/package.json': pkg('@demo/web', ['@demo/core', '@demo/util']),
  'packages/web/index.js': 'web',
  'packages/app/package.json': pkg('@demo/app', ['@demo/web']),
  'packages/app/index.js': 'app',
};

const dir = tempDir();
let node: TestNode;
let server: Server;
let base: string;
const seen: string[] = [];
let failWebOnce = true;

function write(files: Record<string, string>, under: string): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir.path, under, path, '..'), { recursive: true });
    writeFileSync(join(dir.path, under, path), text);
  }
}

beforeAll(async () => {
  write(TREE, 'repo');
  server = createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '');
    if (url === '/registry/@demo/web' && failWebOnce) {
      failWebOnce = false;
      res.writeHead(503).end('busy');
      return;
    }
    seen.push(url);
    if (/^\/(registry|cache)\//.test(url)) res.writeHead(200).end(`warm ${url}`);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  node = await startNode({}, join(dir.path, 'data'));
});
afterAll(async () => {
  await node.close();
  await new Promise((r) => server.close(r));
  dir.cleanup();
});

function plan(name: string, partitioner: string, executor: string, config: Record<string, unknown> = {}) {
  return { name, stages: [{ id: 'prime', kind: 'deploy.prime', partitioner, executor, backoff_ms: 10, config: { root: 'repo', base_url: base, ...config } }] };
}

const run = (p: ReturnType<typeof plan>) => runForOutputs(node, p, dir.path, (o) => outputSchema.parse(o));

describe('deploy.prime', () => {
  it('by_dag_depth + warm_registry: one shard per dependency level, every registry entry warmed (a 503 retried)', async () => {
    const { outputs } = await run(plan('prime-depth', 'by_dag_depth', 'warm_registry'));
    expect(outputs.map((o) => [o.status, o.module, o.cache_entries])).toEqual([
      ['warmed', '@demo/core,@demo/util', 2],
      ['warmed', '@demo/web', 1],
      ['warmed', '@demo/app', 1],
    ]);
    expect(outputs[1]?.warmed).toEqual([{ url: `${base}/registry/%40demo%2Fweb`, status: 200, bytes: 'warm /registry/@demo/web'.length }]);
    expect(failWebOnce).toBe(false);
    expect(seen.filter((u) => u.startsWith('/registry/')).sort()).toEqual(['/registry/@demo/app', '/registry/@demo/core', '/registry/@demo/util', '/registry/@demo/web']);
  });

  it('by_module + prime_caches: one shard per module; warming is not memoized, so a new plan calls again', async () => {
    const before = seen.length;
    const first = await run(plan('prime-modules', 'by_module', 'prime_caches'));
    expect(first.outputs.map((o) => [o.status, o.module])).toEqual([
      ['primed', '@demo/app'],
      ['primed', '@demo/core'],
      ['primed', '@demo/util'],
      ['primed', '@demo/web'],
    ]);
    const again = await run(plan('prime-modules-again', 'by_module', 'prime_caches'));
    expect(again.report.reused_shards).toBe(0);
    expect(seen.length - before).toBe(8);
  });

  it.each([
    ['no base_url', { base_url: undefined }, /^stages\[0\]\.config\.base_url: /],
    ['a base_url that is not http(s)', { base_url: 'ftp://example.com' }, /^stages\[0\]\.config\.base_url: /],
    ['a dependency cycle', { root: 'cyclic' }, /^stages\[0\]\.config\.root: dependency cycle: a -> b -> a$/],
  ])('refuses %s, naming the field', async (_what, config, message) => {
    write({ 'package.json': JSON.stringify({ workspaces: ['a', 'b'] }), 'a/package.json': pkg('a', ['b']), 'b/package.json': pkg('b', ['a']), 'a/i.js': 'a', 'b/i.js': 'b' }, 'cyclic');
    const err = await node.engine.submit(plan('bad', 'by_dag_depth', 'warm_registry', config), { baseDir: dir.path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanError);
    expect((err as Error).message).toMatch(message);
  });
});
