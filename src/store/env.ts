/**
 * The one LMDB environment of a node, with a named database per concern.
 *
 * Invariants:
 * - `write(fn)` runs `fn` inside one write transaction, batched by lmdb-js
 *   with the other writes of the same event turn, and resolves only once that
 *   transaction is flushed to disk. What it reports as written survives a
 *   SIGKILL; what it rejects was not written at all (LMDB commits are atomic).
 * - A full disk or map rejects with `StorageFullError`, never crashes the process.
 *
 *   const store = openStore({ path: '.xyn/store' });
 *   const cas = store.db('cas');
 *   await store.write(() => cas.put('k', bytes));
 */
import { mkdirSync, statfsSync } from 'node:fs';
import { open, type Database, type Key, type RootDatabase } from 'lmdb';
import { StorageFullError, StoreWriteError } from './errors.ts';

/** Every named database of the environment; one concern each. */
export const DB_NAMES = ['meta', 'cas', 'cas_refs', 'events', 'audit', 'checkpoints', 'checkpoint_summary', 'memo', 'plans', 'splits', 'runs', 'tokens', 'xyn_drafts', 'xyn_blueprints', 'xyn_cron', 'xyn_runs', 'xyn_steps', 'xyn_run_index', 'xyn_footprints', 'xyn_footprint_index', 'xyn_impressions', 'xyn_notifications', 'xyn_notification_index', 'xyn_artifacts', 'xyn_artifact_index'] as const;
export type DbName = (typeof DB_NAMES)[number];

export interface StoreOptions {
  /** Directory holding the LMDB environment files. */
  path: string;
  /** Map size in bytes (default DEFAULT_MAP_SIZE); lmdb-js grows the map if data outgrows it. */
  mapSize?: number;
}

/**
 * lmdb-js grows a full map by mapping the file again, bigger, and keeps the
 * old mappings alive; the pages resident in each count toward the process's
 * RSS (a million-shard plan went from ~0.5 to ~1.6 GiB that way). So the map
 * starts big enough and is mapped once. It is address space only: the file
 * grows as data does.
 */
export const DEFAULT_MAP_SIZE = 32 * 1024 ** 3;

const ENOSPC = 28;
const EIO = 5;
const MDB_MAP_FULL = -30792;
/** LMDB reports a short write (the disk filled mid-write) as EIO; below this much free space, EIO means full. */
const NEARLY_FULL_BYTES = 1024 * 1024;
const ignore = (): void => {};

/**
 * lmdb-js prints every failed commit with console.error (four lines, from its
 * write.js) before rejecting the write with the same error — which this
 * store translates and its callers report, once per condition. On a full
 * disk that would be a stack trace per refused batch: those prints are
 * dropped, in every thread that opens a store. Nothing else is filtered.
 */
const consoleError = console.error.bind(console);
console.error = (...args: unknown[]): void => {
  const [first] = args;
  if (args.length === 1 && first instanceof Error && /[\\/]lmdb[\\/]write\.js/.test(first.stack ?? '')) return;
  consoleError(...args);
};

/**
 * A value codec for lmdb-js: `decode(bytes, end)` reads bytes[0, end).
 * `needsStableBuffer` makes lmdb-js hand it a copy, never its shared read buffer.
 */
export interface ValueEncoder {
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array, end: number): unknown;
  needsStableBuffer: true;
}

export class Store {
  readonly path: string;
  private readonly root: RootDatabase;
  private readonly dbs = new Map<DbName, Database>();
  private closed = false;
  /** A commit failed since the last check: lmdb-js then leaves its flush promise pending forever. */
  private commitFailed = false;

  constructor(options: StoreOptions) {
    this.path = options.path;
    mkdirSync(options.path, { recursive: true });
    this.root = open({
      path: options.path,
      maxDbs: DB_NAMES.length + 4,
      mapSize: options.mapSize ?? DEFAULT_MAP_SIZE,
    });
    // lmdb-js opens each event-turn batch with an internal write whose commit
    // promise nobody awaits: if that commit fails (full disk) its rejection is
    // unhandled and kills the process. Right after the batch is sealed (the
    // microtask after 'beforecommit') `committed` is that promise: consume it.
    // Callers still see the failure through their own `write` rejection.
    this.root.on('beforecommit', () => {
      queueMicrotask(() => void this.root.committed.then(ignore, ignore));
    });
  }

  /**
   * A named database; values are lmdb-js's msgpack unless `binary` or an
   * `encoder` of our own is asked for, keys lmdb-js's ordered encoding unless
   * `binaryKeys` (raw bytes) is. Every opener of a database must ask for the
   * same encodings.
   */
  db<K extends Key = string, V = unknown>(
    name: DbName,
    options: { binary?: boolean; binaryKeys?: boolean; encoder?: ValueEncoder } = {},
  ): Database<V, K> {
    let db = this.dbs.get(name);
    if (!db) {
      db = this.root.openDB({
        name,
        ...(options.binary ? { encoding: 'binary' } : {}),
        ...(options.binaryKeys ? { keyEncoding: 'binary' } : {}),
        ...(options.encoder ? { encoder: options.encoder } : {}),
      });
      this.dbs.set(name, db);
    }
    return db as unknown as Database<V, K>;
  }

  /**
   * Runs `fn` in a write transaction and resolves once it is durable.
   * `fn` must be synchronous: puts and removes inside it apply immediately.
   */
  async write<T>(fn: () => T): Promise<T> {
    let thrownByFn: { error: unknown } | undefined;
    const guarded = (): T => {
      try {
        return fn();
      } catch (error) {
        thrownByFn = { error };
        throw error;
      }
    };
    try {
      const result = await this.root.transaction(guarded);
      await this.root.flushed;
      return result;
    } catch (err) {
      if (thrownByFn) throw thrownByFn.error;
      throw await this.translate(err);
    }
  }

  /** Resolves when every write issued so far is durable. */
  async flushed(): Promise<void> {
    try {
      await this.settleAfterFailedCommit();
      await this.root.flushed;
    } catch (err) {
      throw await this.translate(err);
    }
  }

  /** Writes a copy of the environment into `folder` (existing, empty) as its data.mdb, compacted: free pages left out. */
  async compactCopy(folder: string): Promise<void> {
    await this.root.backup(folder, true);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.settleAfterFailedCommit();
    await this.root.close();
  }

  /**
   * After a failed commit lmdb-js never resolves that batch's flush promise, so
   * `flushed` and `close()` (which waits on it) would hang forever. An empty
   * transaction writes nothing, so it commits even on a full disk, and replaces
   * the stuck promise with one that resolves.
   */
  private async settleAfterFailedCommit(): Promise<void> {
    if (!this.commitFailed) return;
    this.commitFailed = false;
    try {
      await this.root.transaction(() => undefined);
    } catch {
      // Nothing was written; close or flushed proceeds regardless.
    }
  }

  /** lmdb-js reports a failed commit with the OS error hidden in a second promise. */
  private async translate(err: unknown): Promise<Error> {
    let cause: unknown = err;
    const commitError = (err as { commitError?: Promise<unknown> } | undefined)?.commitError;
    if (commitError) {
      this.commitFailed = true;
      try {
        await commitError;
      } catch (inner) {
        cause = inner;
      }
    }
    const code = (cause as { code?: unknown } | undefined)?.code;
    const message = cause instanceof Error ? cause.message : String(cause);
    const full =
      code === ENOSPC ||
      code === 'ENOSPC' ||
      code === MDB_MAP_FULL ||
      /MDB_MAP_FULL|No space left/i.test(message) ||
      ((code === EIO || code === 'EIO') && this.nearlyFull());
    if (full) {
      return new StorageFullError(this.path, message.split('\n')[0] ?? message, { cause });
    }
    if (err instanceof StorageFullError || err instanceof StoreWriteError) return err;
    return new StoreWriteError(this.path, message, { cause });
  }

  private nearlyFull(): boolean {
    try {
      const fs = statfsSync(this.path);
      return fs.bavail * fs.bsize < NEARLY_FULL_BYTES;
    } catch {
      return false;
    }
  }
}

export function openStore(options: StoreOptions): Store {
  return new Store(options);
}
