/**
 * `deploy.pack` (seed 002) on a generated source tree: modules from
 * package.json workspaces (or top-level folders), or size partitions; each
 * file gzip-compressed into a content-addressed chunk in the CAS (identical
 * files stored once) with a manifest; unchanged files re-pack for free
 * (memoization); the seed's invalid stage example is refused naming the rule.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decode } from '../../src/core/codec.ts';
import { Cas } from '../../src/store/cas.ts';
import { PlanError } from '../../src/hxo/engine-errors.ts';
import type { PackManifest } from '../../src/hxo/executors/pack.ts';
import { tempDir } from '../kernel/helpers.ts';
import { runForOutputs, startNode, type TestNode } from './helpers.ts';

const outputSchema = z.object({
  status: z.literal('packed'),
  partition_id: z.number().int(),
  files_processed: z.number().int(),
  bytes_in: z.number().int(),
  bytes_packed: z.number().int(),
  manifest: z.string().regex(/^[0-9a-f]{64}$/),
});

const SHARED = 'export const shared = "the same file in two modules";\n'.repeat(20);
const TREE: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'demo', workspaces: ['packages/*', 'tools/cli'] }),
  'packages/core/package.json': JSON.stringify({ name: '@demo/core' }),
  'packages/core/src/index.js': 'export * from "./util.js";\n'.repeat(50),
  'packages/core/src/shared.js': SHARED,
  'packages/web/package.json': JSON.stringify({ name: '@demo/web' }),
  'packages/web/src/app.js': 'import { shared } from "@demo/core";\nconsole.log(shared);\n',
  'packages/web/src/shared.js': SHARED,
  'tools/cli/bin.js': '#!/usr/bin/env node\nconsole.log("cli");\n',
  'docs/readme.md': 'not a workspace\n',
};

const dir = tempDir();
let node: TestNode;

function write(files: Record<string, string>, under = 'repo'): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir.path, under, path, '..'), { recursive: true });
    writeFileSync(join(dir.path, under, path), text);
  }
}

beforeAll(async () => {
  write(TREE);
  mkdirSync(join(dir.path, 'repo', 'packages', 'empty'));
  node = await startNode({}, join(dir.path, 'data'));
});
afterAll(async () => {
  await node.close();
  dir.cleanup();
});

function plan(name: string, partitioner: string, config: Record<string, unknown> = {}) {
  return { name, stages: [{ id: 'pack', kind: 'deploy.pack', partitioner, executor: 'pack_backend', config: { root: 'repo', ...config } }] };
}

const run = (p: ReturnType<typeof plan>) => runForOutputs(node, p, dir.path, (o) => outputSchema.parse(o));

describe('deploy.pack', () => {
  it('by_module: one shard per workspace, files packed into gzip chunks in the CAS, identical files stored once', async () => {
    const { outputs } = await run(plan('pack', 'by_module'));
    expect(outputs.map((o) => [o.partition_id, o.files_processed])).toEqual([
      [0, 3],
      [1, 3],
      [2, 1],
    ]);
    const cas = new Cas(node.kernel.store);
    const manifests = outputs.map((o) => decode(cas.get(o.manifest) as Uint8Array) as PackManifest);
    expect(manifests.map((m) => m.module)).toEqual(['@demo/core', '@demo/web', 'tools/cli']);
    for (const m of manifests) {
      for (const f of m.files) {
        const original = TREE[f.path] as string;
        const unpacked = gunzipSync(cas.get(f.chunk) as Uint8Array);
        expect(unpacked.toString()).toBe(original);
        expect(f.sha256).toBe(createHash('sha256').update(original).digest('hex'));
      }
    }
    const chunkOf = (path: string) => manifests.flatMap((m) => m.files).find((f) => f.path === path)?.chunk;
    expect(chunkOf('packages/core/src/shared.js')).toBe(chunkOf('packages/web/src/shared.js'));
    expect(outputs[0]?.bytes_packed).toBeLessThan(outputs[0]?.bytes_in as number);
  });

  it('re-packing unchanged files is free; an edited file re-packs only its module', async () => {
    const again = await run(plan('pack-again', 'by_module'));
    expect(again.report).toMatchObject({ total_shards: 3, reused_shards: 3 });
    write({ 'packages/web/src/app.js': 'console.log("changed");\n' });
    const edited = await run(plan('pack-edited', 'by_module'));
    expect(edited.report).toMatchObject({ total_shards: 3, reused_shards: 2 });
  });

  it('by_module without workspaces takes the top-level folders; by_filesize cuts the files by size', async () => {
    write({ 'a/x.txt': 'x', 'b/y.txt': 'y', 'b/z.txt': 'z' }, 'flat');
    const flat = await run({ name: 'flat', stages: [{ id: 'pack', kind: 'deploy.pack', partitioner: 'by_module', executor: 'pack_backend', config: { root: 'flat' } }] });
    expect(flat.outputs.map((o) => o.files_processed)).toEqual([1, 2]);
    const sized = await run(plan('pack-size', 'by_filesize', { chunk_size_mb: 1 }));
    expect(sized.outputs.reduce((n, o) => n + o.files_processed, 0)).toBe(Object.keys(TREE).length);
  });

  it("refuses seed 002's invalid stage (by_sql_batch for deploy.pack), naming the rule", async () => {
    const err = await node.engine.submit(plan('bad', 'by_sql_batch'), { baseDir: dir.path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanError);
    expect((err as Error).message).toBe('stages[0].partitioner: "by_sql_batch" is not allowed for deploy.pack; allowed: by_filesize, by_module');
  });
});
