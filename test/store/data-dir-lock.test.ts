/**
 * The data dir lock in one process (the cross-process cases, SIGKILL and
 * races, are in test/cli/locks.test.ts): refusal naming the holder, one lock
 * per directory whatever the path to it, release on every path, the probe
 * that does not take it, and the error across a thread hop.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tempDir } from '../kernel/helpers.ts';
import { DataDirLockedError, HOLDER_FILE, dataDirHolder, lockDataDir, withDataDirLock } from '../../src/store/index.ts';
import { deserializeError, serializeError } from '../../src/core/errors.ts';

const dirs: ReturnType<typeof tempDir>[] = [];
function data(): string {
  const d = tempDir();
  dirs.push(d);
  return join(d.path, 'data');
}
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});

describe('lockDataDir', () => {
  it('makes the dir, names its holder in lock.json, refuses a second taker naming it, and lets go on release', async () => {
    const dir = data();
    const lock = await lockDataDir(dir, 'serve');
    lock.update({ url: 'http://127.0.0.1:8000' });
    expect(JSON.parse(readFileSync(join(dir, HOLDER_FILE), 'utf8'))).toMatchObject({ pid: process.pid, command: 'serve', url: 'http://127.0.0.1:8000' });

    const refused = await lockDataDir(dir, 'run').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(DataDirLockedError);
    expect(refused).toMatchObject({ path: dir, pid: process.pid, command: 'serve', url: 'http://127.0.0.1:8000', code: 'DATA_DIR_LOCKED' });
    expect((refused as Error).message).toBe(`data dir ${dir} is in use by pid ${process.pid} (xyn serve on http://127.0.0.1:8000): stop it first, or use another data dir (--data DIR or XYN_DATA_DIR)`);

    await lock.release();
    await lock.release(); // idempotent
    expect(existsSync(join(dir, HOLDER_FILE))).toBe(false);
    await (await lockDataDir(dir, 'run')).release();
  });

  it('is one lock per directory, whatever the path to it', async () => {
    const dir = data();
    mkdirSync(dir);
    const link = `${dir}-link`;
    symlinkSync(dir, link);
    const lock = await lockDataDir(dir, 'serve');
    try {
      await expect(lockDataDir(link, 'run')).rejects.toBeInstanceOf(DataDirLockedError);
      await expect(lockDataDir(relative(process.cwd(), dir), 'run')).rejects.toBeInstanceOf(DataDirLockedError);
    } finally {
      await lock.release();
    }
  });

  it('is not held by a holder file alone: a dead holder\'s lock.json is overwritten', async () => {
    const dir = data();
    mkdirSync(dir);
    // Pids are below 2^22 on Linux: this one is never alive.
    writeFileSync(join(dir, HOLDER_FILE), JSON.stringify({ pid: 2 ** 22 + 1, command: 'serve', started_at: '2020-01-01T00:00:00.000Z' }));
    expect(await dataDirHolder(dir)).toBeUndefined();
    const lock = await lockDataDir(dir, 'run');
    expect(JSON.parse(readFileSync(join(dir, HOLDER_FILE), 'utf8'))).toMatchObject({ pid: process.pid, command: 'run' });
    await lock.release();
  });

  it('withDataDirLock releases when its work throws', async () => {
    const dir = data();
    await expect(withDataDirLock(dir, 'replay', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await withDataDirLock(dir, 'replay', () => Promise.resolve());
  });
});

describe('dataDirHolder', () => {
  it('says who holds a dir without taking it, and undefined when free or missing', async () => {
    const dir = data();
    expect(await dataDirHolder(dir)).toBeUndefined();
    const lock = await lockDataDir(dir, 'serve');
    expect(await dataDirHolder(dir)).toMatchObject({ pid: process.pid, command: 'serve' });
    await lock.release();
    expect(await dataDirHolder(dir)).toBeUndefined();
    const again = await lockDataDir(dir, 'serve');
    await again.release();
  });
});

describe('DataDirLockedError', () => {
  it('is rebuilt as itself, with its fields, across a thread hop', () => {
    const err = new DataDirLockedError('/data', { pid: 42, command: 'run' });
    const back = deserializeError(serializeError(err));
    expect(back).toBeInstanceOf(DataDirLockedError);
    expect(back).toMatchObject({ path: '/data', pid: 42, command: 'run', url: null, message: err.message });
    expect(new DataDirLockedError('/data', undefined).message).toBe('data dir /data is in use by another process: stop it first, or use another data dir (--data DIR or XYN_DATA_DIR)');
  });
});
