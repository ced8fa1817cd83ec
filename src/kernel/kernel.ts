/**
 * Boots a node's kernel: the store, the event log and bus, the audit trail
 * and the (for now empty) `xyn` supervisor under the root supervisor, the
 * worker pool (running the task types the layers above give it:
 * `poolTasks`), and the event log's retention (a pass at start, then every
 * minute). Every lifecycle notice (start, stop, crash, restart, thread
 * replaced) becomes a `xyn.kernel.*` event and a log line.
 *
 *   const kernel = await startKernel(loadConfig(), { poolTasks: HXO_POOL_TASKS });
 *   ...
 *   await kernel.stop();
 */
import { mkdirSync } from 'node:fs';
import { openStore, type Store } from '../store/env.ts';
import { EventLog } from '../store/event-log.ts';
import { DAY_MS, EventRetention } from '../store/event-retention.ts';
import { Cas } from '../store/cas.ts';
import { StoreSpace } from '../store/space.ts';
import { StorageFullError } from '../store/errors.ts';
import { Bus } from './bus.ts';
import { AuditTrail } from './audit.ts';
import { Supervisor } from './supervisor.ts';
import { WorkerPool } from './worker-pool.ts';
import { createLogger, type Logger } from './log.ts';
import type { Config } from './config.ts';
import type { ActorInfo, KernelNotice } from './actor.ts';
import type { Clock } from '../core/clock.ts';

export interface Kernel {
  readonly config: Config;
  readonly log: Logger;
  readonly store: Store;
  /** The store's room to write: a full disk's notices, and writes that wait for space. */
  readonly space: StoreSpace;
  readonly events: EventLog;
  readonly bus: Bus;
  readonly cas: Cas;
  readonly audit: AuditTrail;
  readonly pool: WorkerPool;
  /** Trims the event log by XYN_EVENTS_RETAIN_DAYS and XYN_EVENTS_MAX_BYTES. */
  readonly retention: EventRetention;
  readonly root: Supervisor;
  /** Under root: where workflow runs are supervised (empty until they come). */
  readonly xyn: Supervisor;
  /** The live supervision tree (`GET /api/v1/actors`, `xyn ps`): root with its children, then the pool and its threads. */
  actors(): ActorInfo;
  /** Turns a lifecycle notice into a kernel event and a log line. */
  readonly notice: KernelNotice;
  stop(): Promise<void>;
}

export interface StartKernelOptions {
  log?: Logger;
  /** The clock retention judges event age by (default: the system's). */
  clock?: Clock;
  /** false: writes that find the disk full give up instead of waiting for space (`xyn run` stops then). Default true. */
  waitForSpace?: boolean;
  /** The task types of the layers above that the worker pool runs (WorkerPoolOptions.tasks; the HXO engine needs hxo's HXO_POOL_TASKS). */
  poolTasks?: Record<string, string>;
}

/** How often a running node trims its event log; a pass removes what aged out since the last. */
const RETENTION_INTERVAL_MS = 60_000;

export async function startKernel(config: Config, options: StartKernelOptions = {}): Promise<Kernel> {
  const log = options.log ?? createLogger(config.XYN_LOG_LEVEL);
  mkdirSync(config.dataDir, { recursive: true });
  mkdirSync(config.artifactsDir, { recursive: true });
  const store = openStore({ path: config.storePath, ...(config.XYN_STORE_MAP_SIZE ? { mapSize: config.XYN_STORE_MAP_SIZE } : {}) });
  const space = new StoreSpace(config.storePath, {
    reserveBytes: config.XYN_STORE_RESERVE_BYTES,
    probeMs: config.XYN_STORE_SPACE_PROBE_MS,
    waitForSpace: options.waitForSpace ?? true,
  });
  const events = new EventLog(store);
  // Events that find the disk full wait for room (or, when the node does not wait, are given up once the reserve is spent).
  const bus = new Bus({
    log: events,
    envId: config.XYN_ENV_ID,
    onAppendError: async (err) => {
      if (!(err instanceof StorageFullError)) throw err;
      space.reportFull(err);
      await space.whenWritable();
    },
  });
  // One line per condition, not one per refused write (a node that does not wait says it its own way).
  space.onFull((c) => {
    if (options.waitForSpace !== false) log.error({ path: c.path, free_bytes: c.free_bytes }, `storage full at ${c.path} (${c.reason}): writes wait for space; free disk space on that file system`);
    bus.publish('xyn.kernel.storage_full', { ...c }).catch(() => {});
  });
  space.onWritable((w) => {
    log.warn({ path: w.path, free_bytes: w.free_bytes }, `storage at ${w.path} has room again: writes go on`);
    bus.publish('xyn.kernel.storage_available', { ...w }).catch(() => {});
  });

  const notice: KernelNotice = (name, data) => {
    log.info({ event: name, ...data }, name);
    bus.publish(name, data).catch((err: unknown) => log.error({ err, event: name }, 'kernel event not recorded'));
  };

  const audit = new AuditTrail(store, bus, (write) => space.retrying(write));
  const xyn = new Supervisor('xyn', { strategy: 'one_for_one', maxRestarts: 5, withinMs: 10_000, notice }, []);
  const root = new Supervisor('root', { strategy: 'one_for_one', maxRestarts: 5, withinMs: 10_000, notice }, [audit, xyn]);
  root.onCrash((error) => log.fatal({ err: error }, 'root supervisor gave up'));
  const pool = new WorkerPool({ size: config.XYN_WORKERS, notice, storePath: config.storePath, priority: config.XYN_WORKER_PRIORITY, ...(options.poolTasks ? { tasks: options.poolTasks } : {}) });
  await root.start();
  notice('xyn.kernel.started', { data_dir: config.dataDir, store: config.storePath, workers: config.XYN_WORKERS, pid: process.pid });

  // Started after the audit trail has subscribed, so its pin holds from the first pass.
  const retention = new EventRetention(events, {
    maxAgeMs: config.XYN_EVENTS_RETAIN_DAYS * DAY_MS,
    maxBytes: config.XYN_EVENTS_MAX_BYTES,
    hold: () => bus.heldSeq(),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  // A pass held back by a reader catching up is normal (the audit trail at start); held at the same seq twice, that reader is stuck.
  let heldBefore: number | null = null;
  retention.start(RETENTION_INTERVAL_MS, {
    onPass: (r) => {
      if (r.removed > 0) log.info({ removed: r.removed, oldest_seq: r.oldest_seq, bytes: r.bytes, events: r.events }, 'event log trimmed');
      if (r.held_at !== null && r.held_at === heldBefore) log.warn({ held_at: r.held_at }, 'event log trimming held back: a pinned reader (audit trail, topic actor) is not reading');
      heldBefore = r.held_at;
    },
    onError: (err) => log.error({ err }, 'event log trimming failed; the next pass retries'),
  });

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      notice('xyn.kernel.stopping', { pid: process.pid });
      // A node stopping on a full disk stops: writes that wait for space give up (what they held is unrecorded).
      space.close();
      await bus.flushed();
      await retention.stop();
      await root.stop();
      await pool.close();
      await bus.close();
      await store.close();
      log.flush();
    })());

  // The pool is shown under root, though root does not supervise it (WorkerPool.info says why).
  const actors = (): ActorInfo => {
    const tree = root.info();
    return { ...tree, children: [...(tree.children ?? []), pool.info()] };
  };

  return { config, log, store, space, events, bus, cas: new Cas(store), audit, pool, retention, root, xyn, actors, notice, stop };
}
