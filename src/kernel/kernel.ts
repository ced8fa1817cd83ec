/**
 * Boots a node's kernel: the store, the event log and bus, the audit trail
 * under the root supervisor, and the shard-worker pool. Every lifecycle
 * notice (start, stop, crash, restart, thread replaced) becomes a
 * `xyn.kernel.*` event and a log line.
 *
 *   const kernel = await startKernel(loadConfig());
 *   ...
 *   await kernel.stop();
 */
import { mkdirSync } from 'node:fs';
import { openStore, type Store } from '../store/env.ts';
import { EventLog } from '../store/event-log.ts';
import { Cas } from '../store/cas.ts';
import { Bus } from './bus.ts';
import { AuditTrail } from './audit.ts';
import { Supervisor } from './supervisor.ts';
import { WorkerPool } from './worker-pool.ts';
import { createLogger, type Logger } from './log.ts';
import type { Config } from './config.ts';
import type { KernelNotice } from './actor.ts';

export interface Kernel {
  readonly config: Config;
  readonly log: Logger;
  readonly store: Store;
  readonly events: EventLog;
  readonly bus: Bus;
  readonly cas: Cas;
  readonly audit: AuditTrail;
  readonly pool: WorkerPool;
  readonly root: Supervisor;
  /** Turns a lifecycle notice into a kernel event and a log line. */
  readonly notice: KernelNotice;
  stop(): Promise<void>;
}

export interface StartKernelOptions {
  log?: Logger;
}

export async function startKernel(config: Config, options: StartKernelOptions = {}): Promise<Kernel> {
  const log = options.log ?? createLogger(config.XYN_LOG_LEVEL);
  mkdirSync(config.dataDir, { recursive: true });
  mkdirSync(config.artifactsDir, { recursive: true });
  const store = openStore({ path: config.storePath, ...(config.XYN_STORE_MAP_SIZE ? { mapSize: config.XYN_STORE_MAP_SIZE } : {}) });
  const events = new EventLog(store);
  const bus = new Bus({ log: events, envId: config.XYN_ENV_ID });

  const notice: KernelNotice = (name, data) => {
    log.info({ event: name, ...data }, name);
    bus.publish(name, data).catch((err: unknown) => log.error({ err, event: name }, 'kernel event not recorded'));
  };

  const audit = new AuditTrail(store, bus);
  const root = new Supervisor('root', { strategy: 'one_for_one', maxRestarts: 5, withinMs: 10_000, notice }, [audit]);
  root.onCrash((error) => log.fatal({ err: error }, 'root supervisor gave up'));
  const pool = new WorkerPool({ size: config.XYN_WORKERS, notice, storePath: config.storePath, priority: config.XYN_WORKER_PRIORITY });
  await root.start();
  notice('xyn.kernel.started', { data_dir: config.dataDir, store: config.storePath, workers: config.XYN_WORKERS, pid: process.pid });

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      notice('xyn.kernel.stopping', { pid: process.pid });
      await bus.flushed();
      await root.stop();
      await pool.close();
      await bus.close();
      await store.close();
      log.flush();
    })());

  return { config, log, store, events, bus, cas: new Cas(store), audit, pool, root, notice, stop };
}
