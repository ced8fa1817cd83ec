/**
 * The executor of the built-in `assets.index` and `assets.stage` kinds
 * (seed 002), run in the pool.
 *
 * `index_assets` reads each file of its shard (a bucket, or a size
 * partition), checks it is still the file the plan listed (size and
 * modification time), and records its sha256, size, type and — for PNG and
 * GIF — pixel dimensions in an index kept as an artifact, with the terms of
 * the paths so the index can be searched. Under `assets.stage` each asset's
 * bytes are also stored in the node's CAS (staged for deployment, found by
 * their sha256). Output: `{status: 'indexed' | 'staged', bucket,
 * assets_indexed, bytes, index}`.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { canonicalEncode } from '../../core/canonical.ts';
import type { ShardContext } from '../plan/executor-loader.ts';
import type { FilesShard } from '../partitioners/by-asset-bucket.ts';
import { NonRetryableError } from '../../core/errors.ts';

export interface AssetEntry {
  path: string;
  bytes: number;
  sha256: string;
  type: string;
  width?: number;
  height?: number;
}

export interface AssetIndex {
  bucket: string;
  assets: AssetEntry[];
  /** term (from the paths) → the paths that have it. */
  terms: Record<string, string[]>;
}

export interface AssetsOutput {
  status: 'indexed' | 'staged';
  bucket: string;
  assets_indexed: number;
  bytes: number;
  index: string;
}

const TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.html': 'text/html',
  '.txt': 'text/plain',
};

export const executors = {
  index_assets(input: unknown, config: Record<string, unknown>, shard: ShardContext): AssetsOutput {
    const { bucket, files, stage_kind } = input as FilesShard;
    const staging = stage_kind === 'assets.stage';
    const assets = files.map((f): AssetEntry => {
      const path = resolve(config.root as string, f.path);
      const st = statSync(path);
      if (st.size !== f.size || Math.floor(st.mtimeMs) !== f.mtime_ms) throw new NonRetryableError(`${f.path} changed since the plan was made: submit the plan again`, 'INPUT_CHANGED');
      const bytes = readFileSync(path);
      if (staging) shard.putArtifact(bytes);
      return { path: f.path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), type: TYPES[extname(f.path).toLowerCase()] ?? 'application/octet-stream', ...imageSize(bytes) };
    });
    const terms: Record<string, string[]> = {};
    const byTerm = new Map<string, string[]>();
    for (const a of assets) for (const term of new Set(a.path.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])) byTerm.set(term, [...(byTerm.get(term) ?? []), a.path]);
    for (const term of [...byTerm.keys()].sort()) terms[term] = byTerm.get(term) as string[];
    const index: AssetIndex = { bucket, assets, terms };
    return {
      status: staging ? 'staged' : 'indexed',
      bucket,
      assets_indexed: assets.length,
      bytes: assets.reduce((n, a) => n + a.bytes, 0),
      index: shard.putArtifact(canonicalEncode(index)),
    };
  },
};

/** Width and height of a PNG or GIF, from its header; nothing for other formats. */
export function imageSize(b: Buffer): { width: number; height: number } | Record<string, never> {
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47 && b.toString('latin1', 12, 16) === 'IHDR') return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  if (b.length >= 10 && b.toString('latin1', 0, 4) === 'GIF8') return { width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
  return {};
}
