/** Shared test helpers: temp dirs, waiting on conditions, the fixture paths. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach } from 'vitest';
import { Bus } from '../../src/kernel/bus.ts';
import { openStore, type Store } from '../../src/store/env.ts';
import { EventLog } from '../../src/store/event-log.ts';

export const ACTORS_FIXTURE = fileURLToPath(new URL('../fixtures/actors.ts', import.meta.url));
export const FUNCTIONS_FIXTURE = fileURLToPath(new URL('../fixtures/pool-functions.ts', import.meta.url));
/** A task module for the pool (WorkerPoolOptions.tasks), as a layer above brings its own. */
export const TASKS_FIXTURE = new URL('../fixtures/pool-tasks.ts', import.meta.url).href;

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

/** A bus over a real event log in a temp dir; a test may replace `store` and `bus` (a restart): those are closed after it. */
export interface BusOnLog {
  dir: { path: string; cleanup: () => void };
  store: Store;
  log: EventLog;
  bus: Bus;
}

/**
 * Each test of the calling suite gets a bus over a real event log, in a temp
 * dir of its own, closed and removed after it; `use` is handed them before
 * the test runs (the returned object holds the current ones too).
 */
export function busOnLogPerTest(use: (t: BusOnLog) => void = () => {}): BusOnLog {
  const t = {} as BusOnLog;
  beforeEach(() => {
    t.dir = tempDir();
    t.store = openStore({ path: t.dir.path });
    t.log = new EventLog(t.store);
    t.bus = new Bus({ log: t.log });
    use(t);
  });
  afterEach(async () => {
    await t.bus.close();
    await t.store.close();
    t.dir.cleanup();
  });
  return t;
}
