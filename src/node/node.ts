/**
 * A node, booted from one place: the kernel (store, bus, pool, root
 * supervisor), the HXO engine when it is enabled, and — for a serving node —
 * the API server, the resumption of plans a stop left unfinished and
 * retention on its schedule. `xyn serve`, `xyn run` and the tests start
 * nodes here; `stop()` takes them down in the reverse order (server closed,
 * retention stopped, then the kernel: pending events flushed, actors
 * stopped, threads ended, store closed).
 *
 *   const node = await startNode(config, { api: { host: '127.0.0.1', port: 0 }, serving: true });
 *   node.server?.port; node.resumed;
 *   await node.stop();
 *
 * The data dir's lock is the caller's (withDataDirLock): it must be held
 * before the store opens, and it outlives the node's stop.
 */
import type { Config } from '../kernel/config.ts';
import type { Logger } from '../kernel/log.ts';
import { startKernel, type Kernel } from '../kernel/kernel.ts';
import { HxoEngine } from '../hxo/engine.ts';
import { HXO_POOL_TASKS } from '../hxo/pool-tasks.ts';
import type { JobKindRegistry } from '../hxo/plan/job-kinds.ts';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../api/server.ts';
import { DraftBook } from '../xyn/drafts/index.ts';
import { RunEngine } from '../xyn/runs/run-engine.ts';
import { ArtifactBook } from '../xyn/artifacts/index.ts';
import type { Clock } from '../core/clock.ts';

export interface NodeOptions {
  /** Serve the API (host, port and the server's other options). */
  api?: Omit<ApiServerOptions, 'kernel' | 'engine' | 'drafts' | 'runs' | 'artifacts'>;
  /** A node that serves: plans a stop left unfinished resume, and retention runs every XYN_GC_INTERVAL_MS. */
  serving?: boolean;
  log?: Logger;
  /** false: writes that find the disk full give up rather than wait (`xyn run` stops then). */
  waitForSpace?: boolean;
  /** Job kinds already loaded (the configured modules). */
  registry?: JobKindRegistry;
  /** Run the HXO engine whatever HXO_ENABLED says (`xyn run` is the engine). */
  engine?: boolean;
  /** Run workflows (triggers, runs); default: a serving node does. */
  workflows?: boolean;
  /** The clock workflow runs and cron triggers go by (tests: a manual one, with no cron timer armed). */
  clock?: Clock;
}

export interface XynNode {
  kernel: Kernel;
  /** Absent when HXO_ENABLED is false (and `engine` did not ask for it). */
  engine: HxoEngine | undefined;
  server: ApiServer | undefined;
  /** The node's drafts and promoted blueprints. */
  drafts: DraftBook;
  /** Workflow runs; absent on a node that runs none (`xyn run`). */
  runs: RunEngine | undefined;
  /** The node's artifacts (steps' logs, what actions and clients put). */
  artifacts: ArtifactBook;
  /** Plans resumed at start (a serving node). */
  resumed: string[];
  /** Workflow runs resumed at start. */
  resumedRuns: string[];
  stop(): Promise<void>;
}

export async function startNode(config: Config, options: NodeOptions = {}): Promise<XynNode> {
  // The pool runs hxo's tasks whether or not this node runs the engine (its threads load them as they start).
  const kernel = await startKernel(config, { poolTasks: HXO_POOL_TASKS, ...(options.log ? { log: options.log } : {}), ...(options.waitForSpace !== undefined ? { waitForSpace: options.waitForSpace } : {}) });
  let engine: HxoEngine | undefined;
  let server: ApiServer | undefined;
  let runs: RunEngine | undefined;
  let stopRetention = async (): Promise<void> => {};
  let resumed: string[] = [];
  let resumedRuns: string[] = [];
  const drafts = new DraftBook(kernel.store);
  const artifacts = new ArtifactBook(kernel.store, { maxBytes: config.XYN_ARTIFACT_MAX_BYTES, quotaBytes: config.XYN_ARTIFACTS_QUOTA_BYTES }, options.clock);
  const stop = async (): Promise<void> => {
    try {
      await server?.close();
    } finally {
      // Runs stop before the plans they may wait on: a halted run's step is run again (or failed) at the next start.
      await runs?.stop();
      await stopRetention();
      await kernel.stop();
    }
  };
  try {
    if (options.engine ?? config.HXO_ENABLED) {
      engine = new HxoEngine(kernel, options.registry);
      if (options.serving) {
        resumed = await engine.start();
        stopRetention = engine.retention.schedule(config.XYN_GC_INTERVAL_MS);
      }
    }
    // Uploads a stop cut short left chunks nobody names: dropped before anything uploads again.
    if (options.serving) await artifacts.sweep();
    if (options.workflows ?? options.serving ?? false) {
      runs = new RunEngine({ kernel, drafts, artifacts, ...(engine ? { hxo: { engine, baseDir: options.api?.baseDir ?? process.cwd() } } : {}), ...(options.clock ? { clock: options.clock, cronTimers: false } : {}) });
      resumedRuns = await runs.start();
    }
    if (options.api) server = await startApiServer({ kernel, drafts, artifacts, ...(engine ? { engine } : {}), ...(runs ? { runs } : {}), ...options.api });
  } catch (err) {
    await stop();
    throw err;
  }
  return { kernel, engine, server, drafts, runs, artifacts, resumed, resumedRuns, stop };
}
