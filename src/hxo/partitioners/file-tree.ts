/**
 * The files under a stage's `root`, as partitioners see them: relative paths
 * with `/`, sorted, with size and modification time (a file's entry changes
 * when it is edited, so its shard gets a new cas_id and runs again). Only
 * regular files; symbolic links and anything outside `root` are ignored.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PlanError } from '../engine-errors.ts';

export interface FileEntry {
  path: string;
  size: number;
  mtime_ms: number;
}

export function listFiles(root: string, under = ''): FileEntry[] {
  const out: FileEntry[] = [];
  const walk = (rel: string): void => {
    let entries;
    try {
      entries = readdirSync(join(root, rel), { withFileTypes: true });
    } catch (err) {
      throw new PlanError('config.root', `cannot list ${join(root, rel)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path);
      else if (e.isFile()) {
        const st = statSync(join(root, path));
        out.push({ path, size: st.size, mtime_ms: Math.floor(st.mtimeMs) });
      }
    }
  };
  walk(under);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The top-level directories of `root`, sorted. */
export function topDirectories(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (err) {
    throw new PlanError('config.root', `cannot list ${root}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
