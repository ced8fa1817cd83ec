/** `by_module`: one shard per module of a workspace (or top directory). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { listFiles, topDirectories, type FileEntry } from './file-tree.ts';
import { PlanError } from '../engine-errors.ts';
import { listPartitioner } from './partitioner.ts';

export const moduleConfig = z.object({ root: z.string().min(1), stage_kind: z.string().default('') });

/** A module of the tree: its name, its directory (relative to root), its files. */
export interface ModuleShard {
  module: string;
  path: string;
  partition_id: number;
  files: FileEntry[];
  stage_kind: string;
}

/**
 * `by_module`: one shard per module — the workspaces of `root/package.json`
 * (`"workspaces": ["packages/*", "tools/cli"]`, or `{packages: [...]}`) when
 * it has them, else each top-level directory. A module is named by its own
 * package.json `name`, else by its path.
 */
export const byModule = listPartitioner('by_module', moduleConfig, modules);

export function modules({ root, stage_kind }: z.infer<typeof moduleConfig>): ModuleShard[] {
  const dirs = workspaceDirs(root) ?? topDirectories(root);
  return dirs
    .map((path) => ({ path, files: listFiles(root, path) }))
    .filter((m) => m.files.length > 0)
    .map(({ path, files }, partition_id) => ({ files, module: packageName(join(root, path)) ?? path, partition_id, path, stage_kind }));
}

/** The workspace directories of root/package.json, or undefined when it declares none. */
function workspaceDirs(root: string): string[] | undefined {
  const pkg = readJson(join(root, 'package.json'));
  const declared = Array.isArray(pkg?.workspaces) ? pkg.workspaces : (pkg?.workspaces as { packages?: unknown } | undefined)?.packages;
  if (!Array.isArray(declared)) return undefined;
  const dirs = new Set<string>();
  for (const pattern of declared) {
    if (typeof pattern !== 'string') continue;
    const clean = pattern.replace(/\/+$/, '');
    // `dir/*` is every directory in dir; anything else is one directory.
    if (clean.endsWith('/*')) {
      const parent = clean.slice(0, -2);
      if (existsSync(join(root, parent))) for (const d of topDirectories(join(root, parent))) dirs.add(`${parent}/${d}`);
    } else if (existsSync(join(root, clean))) dirs.add(clean);
  }
  return [...dirs].sort();
}

function packageName(dir: string): string | undefined {
  const name = readJson(join(dir, 'package.json'))?.name;
  return typeof name === 'string' && name.length > 0 ? name : undefined;
}

export function readJson(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch (err) {
    throw new PlanError('config.root', `${path} is not valid JSON: ${(err as Error).message.split('\n')[0]}`);
  }
}
