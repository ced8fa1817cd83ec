/**
 * `node.json` in the data dir: written by `xyn serve` once it listens (its
 * pid and address), removed when it stops — by that process only: another
 * process on the data dir is refused by its lock (src/store/data-dir-lock.ts)
 * before it could write one, and a remover checks the file still names it.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface NodeFile {
  pid: number;
  url: string;
  started_at: string;
}

/** Writes this process's node.json; returns its remover. */
export function writeNodeFile(dataDir: string, url: string): () => void {
  const path = join(dataDir, 'node.json');
  writeFileSync(path, JSON.stringify({ pid: process.pid, url, started_at: new Date().toISOString() } satisfies NodeFile) + '\n', { mode: 0o600 });
  return () => {
    if (readNodeFile(dataDir)?.pid === process.pid) rmSync(path, { force: true });
  };
}

function readNodeFile(dataDir: string): NodeFile | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'node.json'), 'utf8')) as NodeFile;
  } catch {
    return undefined;
  }
}
