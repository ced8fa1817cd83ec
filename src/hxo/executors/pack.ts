/**
 * The executor of the built-in `deploy.pack` kind (seed 002), run in the pool.
 *
 * `pack_backend` packs its shard's files (a size partition or a module):
 * each file is checked against the plan's listing (size, modification time),
 * gzip-compressed (deterministically: no name, no time in the header) and
 * kept in the node's CAS as a content-addressed chunk, so identical files
 * are stored once; a manifest of the pack (path, size, sha256 and chunk of
 * each file) is kept too. Re-packing unchanged files costs nothing: their
 * shard has the same cas_id, and memoization reuses it.
 * Output: `{status: 'packed', partition_id, files_processed, bytes_in,
 * bytes_packed, manifest}`.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { canonicalEncode } from '../../core/canonical.ts';
import type { ShardContext } from '../plan/executor-loader.ts';
import type { FileEntry } from '../partitioners/file-tree.ts';
import { NonRetryableError } from '../../core/errors.ts';

export interface PackManifest {
  partition_id: number;
  module?: string;
  files: { path: string; bytes: number; sha256: string; chunk: string; packed: number }[];
}

export interface PackOutput {
  status: 'packed';
  partition_id: number;
  files_processed: number;
  bytes_in: number;
  bytes_packed: number;
  manifest: string;
}

export const executors = {
  pack_backend(input: unknown, config: Record<string, unknown>, shard: ShardContext): PackOutput {
    const { partition_id, files, module } = input as { partition_id: number; files: FileEntry[]; module?: string };
    const packed = files.map((f) => {
      const path = resolve(config.root as string, f.path);
      const st = statSync(path);
      if (st.size !== f.size || Math.floor(st.mtimeMs) !== f.mtime_ms) throw new NonRetryableError(`${f.path} changed since the plan was made: submit the plan again`, 'INPUT_CHANGED');
      const bytes = readFileSync(path);
      const chunk = gzipSync(bytes, { level: 9 });
      return { path: f.path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), chunk: shard.putArtifact(chunk), packed: chunk.length };
    });
    const manifest: PackManifest = { partition_id, ...(module ? { module } : {}), files: packed };
    return {
      status: 'packed',
      partition_id,
      files_processed: packed.length,
      bytes_in: packed.reduce((n, f) => n + f.bytes, 0),
      bytes_packed: packed.reduce((n, f) => n + f.packed, 0),
      manifest: shard.putArtifact(canonicalEncode(manifest)),
    };
  },
};
