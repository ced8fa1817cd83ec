/**
 * A real full disk: the store lives on a 4 MiB tmpfs and we write until the
 * filesystem has no room left. The write that does not fit must reject with
 * `StorageFullError` (not crash the process through an unhandled rejection),
 * every write acknowledged before it must stay readable, and the store must
 * close, reopen and accept writes again once data is deleted.
 *
 * Needs root (mount/umount). It must never be skipped: if the mount fails, the
 * suite fails.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openStore, type Store } from '../../src/store/env.ts';
import { StorageFullError } from '../../src/store/errors.ts';

const TMPFS_SIZE = 4 * 1024 * 1024;
const VALUE_SIZE = 64 * 1024;
const MAX_WRITES = 1000; // far more than 4 MiB / 64 KiB: the loop must end by rejection

interface Row {
  i: number;
  fill: string;
}

const row = (i: number): Row => ({ i, fill: String.fromCharCode(65 + (i % 26)).repeat(VALUE_SIZE) });

/** Fails with a clear message instead of letting a hung promise run into the test timeout. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Lets pending rejections reach Node's unhandled-rejection check. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

describe('store on a full disk', () => {
  let mountDir: string;
  let storeDir: string;
  let mounted = false;
  let store: Store | undefined;
  const acked: number[] = [];
  const onUnhandled = vi.fn();

  beforeAll(() => {
    mountDir = fs.mkdtempSync(path.join(os.tmpdir(), 'xyn-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountDir], { stdio: 'pipe' });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
      throw new Error(
        `cannot mount a 4 MiB tmpfs at ${mountDir} (this suite needs root and must not be skipped): ${stderr || String(err)}`,
        { cause: err },
      );
    }
    mounted = true;
    // Make sure the store really sits on the small filesystem.
    const fsStats = fs.statfsSync(mountDir);
    expect(fsStats.blocks * fsStats.bsize).toBeLessThanOrEqual(TMPFS_SIZE);
    storeDir = path.join(mountDir, 'store');
    process.on('unhandledRejection', onUnhandled);
  });

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    try {
      if (store) await within(5_000, 'close in afterAll', store.close());
    } finally {
      // Never leave the tmpfs behind, even if close failed and the files are still mapped.
      if (mounted) {
        try {
          execFileSync('umount', [mountDir], { stdio: 'pipe' });
        } catch {
          execFileSync('umount', ['-l', mountDir], { stdio: 'pipe' });
        }
      }
      fs.rmSync(mountDir, { recursive: true, force: true });
    }
  });

  it('rejects the write that does not fit with StorageFullError and keeps every acknowledged write', async () => {
    store = openStore({ path: storeDir });
    const meta = store.db<string, Row>('meta');

    let failure: unknown;
    let failedAt = -1;
    for (let i = 0; i < MAX_WRITES; i++) {
      try {
        await within(10_000, `write ${i}`, store.write(() => void meta.put(`k${i}`, row(i))));
        acked.push(i);
      } catch (err) {
        failure = err;
        failedAt = i;
        break;
      }
    }

    expect(failedAt, 'the disk never filled up').toBeGreaterThanOrEqual(0);
    // 4 MiB holds a few dozen 64 KiB values, not zero and not hundreds.
    expect(acked.length).toBeGreaterThan(10);
    expect(acked.length).toBeLessThan(TMPFS_SIZE / VALUE_SIZE);

    expect(failure).toBeInstanceOf(StorageFullError);
    const full = failure as StorageFullError;
    expect(full.code).toBe('STORAGE_FULL');
    expect(full.path).toBe(storeDir);
    expect(full.message).toContain(storeDir);
    expect(full.cause).toBeDefined();

    // Nothing of the rejected write was stored; everything acknowledged was.
    expect(meta.get(`k${failedAt}`)).toBeUndefined();
    for (const i of acked) expect(meta.get(`k${i}`), `acknowledged k${i}`).toEqual(row(i));

    // More writes while full, issued from different event turns so several
    // batches are in flight at once: each one either lands or is a StorageFullError.
    const burst = Array.from({ length: 16 }, (_, j) =>
      new Promise((resolve) => setTimeout(resolve, j % 4)).then(() =>
        (store as Store).write(() => void meta.put(`burst${j}`, row(1000 + j))),
      ),
    );
    const results = await within(10_000, 'burst of writes on a full disk', Promise.allSettled(burst));
    results.forEach((result, j) => {
      if (result.status === 'fulfilled') {
        expect(meta.get(`burst${j}`)).toEqual(row(1000 + j));
      } else {
        expect(result.reason).toBeInstanceOf(StorageFullError);
        expect(meta.get(`burst${j}`)).toBeUndefined();
      }
    });
    expect(results.some((r) => r.status === 'rejected')).toBe(true);

    // `flushed` must not hang after failed commits, and acknowledged data is still there.
    await within(5_000, 'store.flushed() after a failed commit', store.flushed());
    for (const i of acked) expect(meta.get(`k${i}`)).toEqual(row(i));

    await settle();
    expect(onUnhandled).not.toHaveBeenCalled();
  }, 60_000);

  it('closes and reopens with acknowledged values intact, and takes writes again once data is deleted', async () => {
    expect(acked.length).toBeGreaterThan(10); // set by the previous test
    const first = store as Store;

    // Close right after failed commits must not hang, and reopening must work.
    await within(5_000, 'close after a failed commit', first.close());
    store = openStore({ path: storeDir });
    let meta = store.db<string, Row>('meta');
    for (const i of acked) expect(meta.get(`k${i}`), `acknowledged k${i} after reopen`).toEqual(row(i));

    // Free space by deleting every other acknowledged value.
    const deleted = acked.filter((i) => i % 2 === 0);
    const kept = acked.filter((i) => i % 2 === 1);
    await within(10_000, 'delete on a full disk', store.write(() => deleted.forEach((i) => void meta.remove(`k${i}`))));

    // LMDB reuses the pages a transaction freed only once later transactions
    // have committed (and been flushed), so a full-size value may need a few
    // small commits before it fits again; it must fit within a handful.
    const s = store;
    let attempts = 0;
    for (;;) {
      attempts++;
      await within(10_000, 'small write after delete', s.write(() => void meta.put(`small${attempts}`, { i: attempts, fill: '' })));
      try {
        await within(10_000, 'large write after delete', s.write(() => void meta.put('again', row(2000))));
        break;
      } catch (err) {
        expect(err).toBeInstanceOf(StorageFullError);
        if (attempts >= 5) throw err;
      }
    }

    await within(5_000, 'close', store.close());
    store = openStore({ path: storeDir });
    meta = store.db<string, Row>('meta');
    for (const i of kept) expect(meta.get(`k${i}`), `kept k${i} after reopen`).toEqual(row(i));
    for (const i of deleted) expect(meta.get(`k${i}`)).toBeUndefined();
    expect(meta.get('again')).toEqual(row(2000));

    await settle();
    expect(onUnhandled).not.toHaveBeenCalled();
  }, 60_000);
});
