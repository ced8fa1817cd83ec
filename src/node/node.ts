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
import { join, resolve } from 'node:path';
import type { Config } from '../kernel/config.ts';
import type { Logger } from '../kernel/log.ts';
import { startKernel, type Kernel } from '../kernel/kernel.ts';
import { HxoEngine } from '../hxo/engine.ts';
import { HXO_POOL_TASKS } from '../hxo/pool-tasks.ts';
import type { JobKindRegistry } from '../hxo/plan/job-kinds.ts';
import { uiPages } from '../ui/index.ts';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../api/server.ts';
import { DraftBook } from '../xyn/drafts/index.ts';
import { RunEngine } from '../xyn/runs/run-engine.ts';
import { FootprintBook } from '../xyn/footprints/footprint-book.ts';
import { loadImpressionRules } from '../xyn/footprints/impression-rules.ts';
import { KnownHostsFile } from '../xyn/ssh/index.ts';
import { Notifier } from '../xyn/notifications/index.ts';
import { nodeSecretStore, type SecretStore } from '../xyn/secrets/index.ts';
import { ArtifactBook } from '../xyn/artifacts/index.ts';
import type { Clock } from '../core/clock.ts';

export interface NodeOptions {
  /** Serve the API (host, port and the server's other options). */
  api?: Omit<ApiServerOptions, 'kernel' | 'engine' | 'drafts' | 'runs' | 'notifications' | 'secrets' | 'artifacts'>;
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
  /** Failures and critical events raised as notifications; with the runs. */
  notifier: Notifier | undefined;
  /** The node's secrets: XYN_SECRET_* variables, then DATA_DIR/secrets.enc (under XYN_SECRETS_KEY), where changes go. */
  secrets: SecretStore;
  /** The node's artifacts (steps' logs, what actions and clients put). */
  artifacts: ArtifactBook;
  /** Plans resumed at start (a serving node). */
  resumed: string[];
  /** Workflow runs resumed at start. */
  resumedRuns: string[];
  stop(): Promise<void>;
}

export async function startNode(config: Config, options: NodeOptions = {}): Promise<XynNode> {
  // Read before anything starts: a rule file with a mistake stops the start (a config error) having opened nothing.
  const impressionRules = config.XYN_IMPRESSION_RULES ? loadImpressionRules(resolve(config.XYN_IMPRESSION_RULES)) : [];
  // The pool runs hxo's tasks whether or not this node runs the engine (its threads load them as they start).
  const kernel = await startKernel(config, { poolTasks: HXO_POOL_TASKS, ...(options.log ? { log: options.log } : {}), ...(options.waitForSpace !== undefined ? { waitForSpace: options.waitForSpace } : {}) });
  let engine: HxoEngine | undefined;
  let server: ApiServer | undefined;
  let runs: RunEngine | undefined;
  let notifier: Notifier | undefined;
  let stopRetention = async (): Promise<void> => {};
  let resumed: string[] = [];
  let resumedRuns: string[] = [];
  const drafts = new DraftBook(kernel.store);
  const secrets = nodeSecretStore(config.secretsFile, process.env, config.XYN_SECRETS_KEY);
  const artifacts = new ArtifactBook(kernel.store, { maxBytes: config.XYN_ARTIFACT_MAX_BYTES, quotaBytes: config.XYN_ARTIFACTS_QUOTA_BYTES }, options.clock);
  const stop = async (): Promise<void> => {
    try {
      await server?.close();
    } finally {
      // Runs stop before the plans they may wait on: a halted run's step is run again (or failed) at the next start.
      await runs?.stop();
      if (notifier) {
        await notifier.stop();
        kernel.xyn.remove(notifier);
      }
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
      // The host keys ssh.run trusts: a file operators can read and edit (OpenSSH's format).
      const knownHosts = new KnownHostsFile(join(config.dataDir, 'known_hosts'));
      runs = new RunEngine({ kernel, drafts, secrets, artifacts, knownHosts, footprints: new FootprintBook(kernel.store), impressionRules, ...(engine ? { hxo: { engine, baseDir: options.api?.baseDir ?? process.cwd() } } : {}), ...(options.clock ? { clock: options.clock, cronTimers: false } : {}) });
      // The notifier first: what the runs resumed publish is read by it.
      notifier = new Notifier({ kernel, runs: runs.book, ...(options.clock ? { clock: options.clock } : {}) });
      await kernel.xyn.add(notifier);
      resumedRuns = await runs.start();
    }
    if (options.api) {
      const pages = uiPages({ kernel, ...(engine ? { engine } : {}) });
      server = await startApiServer({ kernel, drafts, secrets, artifacts, pages, ...(engine ? { engine } : {}), ...(runs ? { runs } : {}), ...(notifier ? { notifications: notifier.book } : {}), ...options.api });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { kernel, engine, server, drafts, runs, notifier, secrets, artifacts, resumed, resumedRuns, stop };
}
