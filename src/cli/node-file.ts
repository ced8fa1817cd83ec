/**
 * `node.json` in the data dir: written by `xyn serve` while it runs (its pid
 * and address), removed when it stops. Commands that would change what a
 * running node owns (tokens) ask it through its API instead of writing the
 * data dir behind its back. A file left by a node that died is ignored.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface NodeFile {
  pid: number;
  url: string;
  started_at: string;
}

export function writeNodeFile(dataDir: string, url: string): () => void {
  const path = join(dataDir, 'node.json');
  writeFileSync(path, JSON.stringify({ pid: process.pid, url, started_at: new Date().toISOString() } satisfies NodeFile) + '\n', { mode: 0o600 });
  return () => rmSync(path, { force: true });
}

/** The node running on this data dir, if one is. */
export function runningNode(dataDir: string): NodeFile | undefined {
  let file: NodeFile;
  try {
    file = JSON.parse(readFileSync(join(dataDir, 'node.json'), 'utf8')) as NodeFile;
  } catch {
    return undefined;
  }
  try {
    process.kill(file.pid, 0);
    return file;
  } catch (err) {
    // EPERM: alive, but another user's.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? file : undefined;
  }
}
