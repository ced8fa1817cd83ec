/** Shared test helpers: temp dirs, waiting on conditions, the fixture paths. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ACTORS_FIXTURE = fileURLToPath(new URL('../fixtures/actors.ts', import.meta.url));
export const EXECUTORS_FIXTURE = fileURLToPath(new URL('../fixtures/executors.ts', import.meta.url));

export function tempDir(): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'xyn-test-'));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Polls `condition` (which may ask asynchronously) every 5 ms until it holds or `timeoutMs` passes. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
