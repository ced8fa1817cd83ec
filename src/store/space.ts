/**
 * The store's room to write, and what a node does when its disk fills.
 *
 * A full disk must not turn into failed shards, lost events or a storm of
 * log lines. So the node keeps a small reserve file beside its LMDB store.
 * The first write that finds the disk full (`reportFull`) releases it: the
 * writes already under way (the bus's pending events, an alert, a plan's
 * record) then have room to land, while the writers that grow the store
 * (plans) pause on the `full` notice. A probe then watches the free space;
 * once the reserve fits again with room to spare, it takes the reserve back
 * and gives the `writable` notice.
 *
 * Invariants:
 * - One `full` and one `writable` notice per condition: `reportFull` while
 *   full only notes that the reserve's room is used up too.
 * - `whenWritable()` resolves at once while the released reserve's room is
 *   unused (one retry on it), and otherwise when the probe sees the space
 *   back. It rejects once the space is closed (the node is stopping), and —
 *   when the node does not wait for space (`xyn run` stops instead) — as
 *   soon as that one retry is spent.
 *
 *   const space = new StoreSpace(store.path, { reserveBytes: 8 << 20, probeMs: 1000, waitForSpace: true });
 *   space.onFull((c) => pausePlans(c));
 *   await space.retrying(() => store.write(() => db.put(k, v)));
 */
import { rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StorageFullError } from './errors.ts';

export interface SpaceOptions {
  /** Bytes kept in the reserve file (0: no reserve). */
  reserveBytes: number;
  /** How often the free space is looked at while the store is full. */
  probeMs: number;
  /** true: writes wait for space to come back (a node); false: they give up after the reserve's retry (`xyn run`). */
  waitForSpace: boolean;
}

/** What `full` listeners are told. */
export interface FullCondition {
  /** The store's directory. */
  path: string;
  /** What the failed write said. */
  reason: string;
  /** Free bytes on the store's file system when it filled. */
  free_bytes: number;
}

export type SpaceListener<T> = (value: T) => void;

/** The reserve file, beside LMDB's own files in the store's directory. */
export const RESERVE_FILE = 'space-reserve';

export class StoreSpace {
  private full: FullCondition | undefined;
  /** The reserve's room was used up by a retry (or there was none): waiters wait for the probe. */
  private spent = false;
  private error: StorageFullError | undefined;
  private waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly fullListeners = new Set<SpaceListener<FullCondition>>();
  private readonly writableListeners = new Set<SpaceListener<{ path: string; free_bytes: number }>>();
  private readonly reservePath: string;

  constructor(
    readonly path: string,
    private readonly options: SpaceOptions,
  ) {
    this.reservePath = join(path, RESERVE_FILE);
    this.takeReserve();
  }

  /** The condition while the store is full, else undefined. */
  get condition(): FullCondition | undefined {
    return this.full;
  }

  onFull(listener: SpaceListener<FullCondition>): () => void {
    this.fullListeners.add(listener);
    return () => this.fullListeners.delete(listener);
  }

  onWritable(listener: SpaceListener<{ path: string; free_bytes: number }>): () => void {
    this.writableListeners.add(listener);
    return () => this.writableListeners.delete(listener);
  }

  /** A write found the store full: the first report of a condition releases the reserve and tells the listeners. */
  reportFull(err: StorageFullError): void {
    this.error = err;
    if (this.full) {
      this.spent = true;
      return;
    }
    this.full = { path: this.path, reason: err.reason, free_bytes: this.freeBytes() };
    this.spent = !this.releaseReserve();
    // A stopping node still gets the reserve's room for its last writes, but no longer waits or tells.
    if (this.closed) return;
    this.timer = setInterval(() => this.probe(), this.options.probeMs);
    this.timer.unref();
    for (const listener of this.fullListeners) listener(this.full);
  }

  /** Resolves when a write that found the store full may be tried again (see the invariants). */
  whenWritable(): Promise<void> {
    if (!this.full) return Promise.resolve();
    if (!this.spent) {
      // Whoever retries now uses the reserve's room; a second failure marks it spent.
      return Promise.resolve();
    }
    if (this.closed || !this.options.waitForSpace) return Promise.reject(this.stoppedError());
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /**
   * Runs `write` until it does not find the store full: each StorageFullError
   * is reported, and the write runs again once the store is writable.
   */
  async retrying<T>(write: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await write();
      } catch (err) {
        if (!(err instanceof StorageFullError)) throw err;
        this.reportFull(err);
        await this.whenWritable();
      }
    }
  }

  /** Stops probing; whoever waits for space gets the StorageFullError (the node is stopping). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const error = this.stoppedError();
    for (const w of this.waiters.splice(0)) w.reject(error);
  }

  /** Free bytes for an unprivileged writer on the store's file system. */
  freeBytes(): number {
    try {
      const fs = statfsSync(this.path);
      return fs.bavail * fs.bsize;
    } catch {
      return 0;
    }
  }

  /** While full: is there room for the reserve and as much again? Then it is taken back and waiters go on. */
  private probe(): void {
    const free = this.freeBytes();
    if (free < 2 * this.options.reserveBytes + PROBE_MARGIN_BYTES) return;
    if (!this.takeReserve()) return;
    this.full = undefined;
    this.spent = false;
    clearInterval(this.timer);
    this.timer = undefined;
    for (const w of this.waiters.splice(0)) w.resolve();
    const back = { path: this.path, free_bytes: this.freeBytes() };
    for (const listener of this.writableListeners) listener(back);
  }

  /** Writes the reserve file (if there is none of the right size); false when the disk has no room for it. */
  private takeReserve(): boolean {
    const bytes = this.options.reserveBytes;
    if (bytes === 0) return true;
    try {
      if (statSync(this.reservePath, { throwIfNoEntry: false })?.size === bytes) return true;
      writeFileSync(this.reservePath, Buffer.alloc(bytes));
      return true;
    } catch {
      rmSync(this.reservePath, { force: true });
      return false;
    }
  }

  /** Deletes the reserve file; false when there was none to free. */
  private releaseReserve(): boolean {
    if (this.options.reserveBytes === 0) return false;
    try {
      rmSync(this.reservePath);
      return true;
    } catch {
      return false;
    }
  }

  private stoppedError(): StorageFullError {
    return this.error ?? new StorageFullError(this.path, 'the node stopped while its store was full');
  }
}

/** Free space the probe wants beyond twice the reserve before it calls the store writable again. */
const PROBE_MARGIN_BYTES = 1024 * 1024;
