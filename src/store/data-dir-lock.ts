/**
 * One process writes a data dir at a time (DESIGN.md §3: "one node owns a
 * data dir"). LMDB would let two nodes open the same store, and they would
 * then hand out each other's plans, tokens and files; so `serve`, `run`,
 * `replay` and the commands that write the data dir directly take this lock,
 * and a second one is refused naming the holder.
 *
 *   const lock = await lockDataDir('.xyn', 'serve'); // or DataDirLockedError
 *   lock.update({ url: 'http://127.0.0.1:8000' });   // once it is known
 *   await lock.release();
 *
 * Why an abstract unix socket (Linux): binding a name is atomic (of two
 * racers exactly one gets it, the other EADDRINUSE), and the kernel frees it
 * when the holder dies however it dies (SIGKILL, OOM), so there is never a
 * stale lock to guess about — unlike a pid file (pids are reused) or lockfile
 * timeouts. Node has no flock(2); a socket needs no native code. The name is
 * the data dir's device and inode, so every path to it (symlinks, relative
 * paths, bind mounts) is the same lock. Abstract names live per network
 * namespace: processes in different containers sharing one data dir through
 * a volume do not see each other's lock.
 *
 * `lock.json` in the data dir only *names* the holder (pid, command, when,
 * its URL once serving) for the refusal; the socket is the truth. A file left
 * by a holder that died is overwritten by the next one and never believed:
 * a name is given only while its pid is alive.
 *
 * Elsewhere (no abstract namespace) the fallback is `lock.json` itself,
 * created exclusively (O_EXCL, atomic); a file whose pid is dead is stale and
 * taken over. That takeover is best-effort (pids are reused; two racers may
 * both judge the same file stale): Linux is what runs here.
 */
import { connect, createServer, type Server } from 'node:net';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataDirLockedError } from './errors.ts';

export interface LockHolder {
  pid: number;
  /** What holds it: `serve`, `run`, `replay`, `token create` ... */
  command: string;
  started_at: string;
  /** Where the holder answers, once a `serve` listens. */
  url?: string;
}

export interface DataDirLock {
  readonly dataDir: string;
  /** Adds to what `lock.json` says about the holder (a serve's URL once it listens). */
  update(extra: Pick<LockHolder, 'url'>): void;
  /** Idempotent. Also done (the file part) if the process exits without it. */
  release(): Promise<void>;
}

export const HOLDER_FILE = 'lock.json';
const ABSTRACT = process.platform === 'linux';

/** Takes the data dir (made if missing) for this process, or throws DataDirLockedError naming the holder. */
export async function lockDataDir(dataDir: string, command: string): Promise<DataDirLock> {
  mkdirSync(dataDir, { recursive: true });
  let holder: LockHolder = { pid: process.pid, command, started_at: new Date().toISOString() };
  let server: Server | undefined;
  if (ABSTRACT) {
    const bound = await bind(socketName(dataDir));
    if (!bound) throw new DataDirLockedError(dataDir, liveHolder(dataDir));
    server = bound;
    try {
      writeHolder(dataDir, holder);
    } catch (err) {
      bound.close();
      throw err;
    }
  } else {
    createHolderFile(dataDir, holder);
  }
  // Ours to remove, and only while ours: the next holder may have written it since.
  const removeFile = (): void => {
    if (readHolder(dataDir)?.pid === process.pid) rmSync(join(dataDir, HOLDER_FILE), { force: true });
  };
  process.once('exit', removeFile);
  let released: Promise<void> | undefined;
  return {
    dataDir,
    update(extra) {
      holder = { ...holder, ...extra };
      writeHolder(dataDir, holder);
    },
    release() {
      released ??= (async () => {
        process.removeListener('exit', removeFile);
        // The file goes first: once the socket is closed another holder may write its own.
        removeFile();
        if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return released;
    },
  };
}

/** Runs `fn` holding the data dir's lock; releases it however `fn` ends. */
export async function withDataDirLock<T>(dataDir: string, command: string, fn: (lock: DataDirLock) => Promise<T>): Promise<T> {
  const lock = await lockDataDir(dataDir, command);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}

/**
 * Who holds the data dir now, without taking it (connecting, not binding: a
 * probe must never make a starting node see the dir as held). Undefined when
 * free; the holder, its fields missing when it cannot be named, when held.
 */
export async function dataDirHolder(dataDir: string): Promise<Partial<LockHolder> | undefined> {
  if (!ABSTRACT) return liveHolder(dataDir);
  let name: string;
  try {
    name = socketName(dataDir);
  } catch {
    return undefined; // no such dir: nobody holds it
  }
  const held = await new Promise<boolean>((resolve) => {
    const socket = connect({ path: name });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false)); // ECONNREFUSED: nobody bound the name
  });
  return held ? (liveHolder(dataDir) ?? {}) : undefined;
}

/** The abstract socket name of a directory: its identity, not its path. */
function socketName(dataDir: string): string {
  const { dev, ino } = statSync(dataDir, { bigint: true });
  return `\0xyn-data-dir:${dev}:${ino}`;
}

/** The bound server, or undefined when another process holds the name. */
function bind(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    // Nothing is served: whoever connects (to see whether it is held) is hung up on.
    const server = createServer((socket) => socket.destroy());
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(undefined) : reject(err)));
    // exclusive: under cluster a worker's listen would otherwise share the primary's handle.
    server.listen({ path: name, exclusive: true }, () => {
      server.unref(); // holding the lock must not keep the process alive
      resolve(server);
    });
  });
}

function readHolder(dataDir: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(dataDir, HOLDER_FILE), 'utf8')) as LockHolder;
    return Number.isSafeInteger(parsed.pid) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The holder named by the file, if its process is alive (else the file is a dead holder's leftover). */
function liveHolder(dataDir: string): LockHolder | undefined {
  const holder = readHolder(dataDir);
  return holder && alive(holder.pid) ? holder : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/** Whole or not at all: a reader never sees half a file. */
function writeHolder(dataDir: string, holder: LockHolder): void {
  const path = join(dataDir, HOLDER_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(holder) + '\n');
  renameSync(tmp, path);
}

/** The fallback lock: the holder file created exclusively; a dead holder's file is taken over once. */
function createHolderFile(dataDir: string, holder: LockHolder): void {
  const path = join(dataDir, HOLDER_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(holder) + '\n', { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const current = readHolder(dataDir);
    // Unreadable: being written by a live holder right now.
    if (!current || alive(current.pid)) throw new DataDirLockedError(dataDir, current);
    rmSync(path, { force: true });
  }
  throw new DataDirLockedError(dataDir, readHolder(dataDir));
}
