/**
 * `xyn compact`: the store file, rewritten without its free pages. LMDB
 * reuses the pages that retention frees but never gives them back to the
 * disk; a compacting copy does.
 *
 * The copy is made in a folder beside the store (`<store>.compact/`),
 * flushed, and then renamed over `data.mdb` — one atomic rename, so a
 * process killed at any moment leaves either the old file or the new one,
 * both whole (a leftover copy is removed by the next compaction). The caller
 * holds the data dir's lock: no other process has the store open.
 *
 *   const { before, after } = await compactStore('.xyn/store');
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from './env.ts';

export interface Compaction {
  /** Bytes of data.mdb before and after. */
  before: number;
  after: number;
}

export async function compactStore(storePath: string): Promise<Compaction> {
  const file = join(storePath, 'data.mdb');
  const folder = `${storePath}.compact`;
  const copy = join(folder, 'data.mdb');
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder);
  const before = statSync(file).size;
  const store = openStore({ path: storePath });
  try {
    await store.flushed();
    await store.compactCopy(folder);
  } finally {
    await store.close();
  }
  fsyncPath(copy);
  renameSync(copy, file);
  fsyncPath(storePath);
  rmSync(folder, { recursive: true, force: true });
  return { before, after: statSync(file).size };
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
