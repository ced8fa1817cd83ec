/**
 * `assets.index` and `assets.stage` (seed 002) on a real asset tree the test
 * writes: buckets (top-level folders) or size partitions as shards, an index
 * artifact per shard (types, sizes, sha256, PNG/GIF dimensions, path terms),
 * staged bytes in the CAS, outputs in the seed's shape, refusals naming the
 * rule.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decode } from '../../src/core/codec.ts';
import { Cas } from '../../src/store/cas.ts';
import { PlanError } from '../../src/hxo/engine-errors.ts';
import type { AssetIndex } from '../../src/hxo/executors/assets.ts';
import { tempDir } from '../kernel/helpers.ts';
import { runForOutputs, startNode, type TestNode } from './helpers.ts';

const outputSchema = z.object({
  status: z.enum(['indexed', 'staged']),
  bucket: z.string(),
  assets_indexed: z.number().int(),
  bytes: z.number().int(),
  index: z.string().regex(/^[0-9a-f]{64}$/),
});

/** A minimal PNG header (signature + IHDR) of the given size. */
function png(width: number, height: number): Buffer {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  return b;
}

function gif(width: number, height: number): Buffer {
  const b = Buffer.alloc(13);
  b.write('GIF89a', 0, 'latin1');
  b.writeUInt16LE(width, 6);
  b.writeUInt16LE(height, 8);
  return b;
}

const FILES: Record<string, Buffer> = {
  'images/logo.png': png(640, 480),
  'images/icons/spinner.gif': gif(32, 16),
  'css/site.css': Buffer.from('body { margin: 0 }\n'),
  'fonts/inter.woff2': randomBytes(3000),
  'fonts/mono.woff2': randomBytes(1500),
};

const dir = tempDir();
let node: TestNode;

beforeAll(async () => {
  for (const [path, bytes] of Object.entries(FILES)) {
    mkdirSync(join(dir.path, 'assets', path, '..'), { recursive: true });
    writeFileSync(join(dir.path, 'assets', path), bytes);
  }
  mkdirSync(join(dir.path, 'assets', 'empty'));
  node = await startNode({}, join(dir.path, 'data'));
});
afterAll(async () => {
  await node.close();
  dir.cleanup();
});

function plan(name: string, kind: string, partitioner: string, config: Record<string, unknown> = {}) {
  return { name, stages: [{ id: 'assets', kind, partitioner, executor: 'index_assets', config: { root: 'assets', ...config } }] };
}

const run = (p: ReturnType<typeof plan>) => runForOutputs(node, p, dir.path, (o) => outputSchema.parse(o));

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('assets.index / assets.stage', () => {
  it('by_asset_bucket: one shard per non-empty bucket, indexed with types, sizes, digests, image dimensions and path terms', async () => {
    const { outputs } = await run(plan('assets-index', 'assets.index', 'by_asset_bucket'));
    expect(outputs.map((o) => [o.bucket, o.status, o.assets_indexed])).toEqual([
      ['css', 'indexed', 1],
      ['fonts', 'indexed', 2],
      ['images', 'indexed', 2],
    ]);
    expect(outputs[1]?.bytes).toBe(4500);
    const cas = new Cas(node.kernel.store);
    const images = decode(cas.get(outputs[2]?.index as string) as Uint8Array) as AssetIndex;
    expect(images.assets).toEqual([
      { path: 'images/icons/spinner.gif', bytes: 13, sha256: sha(FILES['images/icons/spinner.gif'] as Buffer), type: 'image/gif', width: 32, height: 16 },
      { path: 'images/logo.png', bytes: 33, sha256: sha(FILES['images/logo.png'] as Buffer), type: 'image/png', width: 640, height: 480 },
    ]);
    expect(images.terms.logo).toEqual(['images/logo.png']);
    expect(images.terms.images).toEqual(['images/icons/spinner.gif', 'images/logo.png']);
    // Indexing does not upload: the assets' bytes are not in the CAS.
    expect(cas.has(sha(FILES['images/logo.png'] as Buffer))).toBe(false);
  });

  it('assets.stage puts every asset in the CAS, found by its sha256', async () => {
    const { outputs } = await run(plan('assets-stage', 'assets.stage', 'by_asset_bucket'));
    expect(outputs.every((o) => o.status === 'staged')).toBe(true);
    const cas = new Cas(node.kernel.store);
    for (const bytes of Object.values(FILES)) expect(Buffer.from(cas.get(sha(bytes)) as Uint8Array)).toEqual(bytes);
  });

  it('by_filesize: consecutive files in path order, each range at most chunk_size_mb (a bigger file alone)', async () => {
    const { outputs } = await run(plan('assets-size', 'assets.index', 'by_filesize', { chunk_size_mb: 2000 / (1024 * 1024) }));
    // Sorted: css/site.css 19, fonts/inter 3000, fonts/mono 1500, images/icons/spinner.gif 13, images/logo.png 33.
    expect(outputs.map((o) => o.assets_indexed)).toEqual([1, 1, 3]);
    expect(outputs.map((o) => o.bytes)).toEqual([19, 3000, 1546]);
    expect(outputs.map((o) => o.bucket)).toEqual(['partition-0', 'partition-1', 'partition-2']);
  });

  it.each([
    ['a partitioner the kind does not allow', plan('bad', 'assets.index', 'by_route_map'), /^stages\[0\]\.partitioner: "by_route_map" is not allowed for assets\.index; allowed: by_asset_bucket, by_filesize/],
    ['a missing root', plan('bad', 'assets.index', 'by_asset_bucket', { root: 'nowhere' }), /^stages\[0\]\.config\.root: cannot list .*nowhere: ENOENT/],
    ['a chunk size that is not positive', plan('bad', 'assets.stage', 'by_filesize', { chunk_size_mb: 0 }), /^stages\[0\]\.config\.chunk_size_mb: /],
  ])('refuses %s, naming the rule', async (_what, p, message) => {
    const err = await node.engine.submit(p, { baseDir: dir.path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanError);
    expect((err as Error).message).toMatch(message);
  });
});
