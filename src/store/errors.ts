/** Errors raised by the store; each names what was being stored and where. */
import { XynError, registerErrorClass } from '../core/errors.ts';

/** The disk (or the LMDB map) has no room for the write; nothing of it was stored. */
export class StorageFullError extends XynError {
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `storage full at ${path}: ${reason}; free disk space (or raise XYN_STORE_MAP_SIZE) and retry — nothing of this write was stored`,
      'STORAGE_FULL',
      { path, reason },
      options,
    );
  }
}

/** A CAS blob whose bytes no longer hash to its address: never served. */
export class CorruptBlobError extends XynError {
  constructor(
    readonly hash: string,
    readonly actual: string,
  ) {
    super(`CAS blob ${hash} is corrupted: its bytes hash to ${actual}`, 'CORRUPT_BLOB', { hash, actual });
  }
}

/** A write that failed for a reason other than space. */
export class StoreWriteError extends XynError {
  constructor(
    readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`write to store ${path} failed: ${reason}`, 'STORE_WRITE_FAILED', { path, reason }, options);
  }
}

/**
 * A read asked for events after `since`, but retention has trimmed the log
 * past it: events up to `oldestSeq - 1` are gone. Asking again with
 * `since = oldestSeq - 1` reads everything still kept.
 */
export class EventsTruncatedError extends XynError {
  constructor(
    readonly since: number,
    readonly oldestSeq: number,
  ) {
    super(
      `since ${since} is below the oldest event kept (seq ${oldestSeq}): events up to seq ${oldestSeq - 1} were trimmed by retention (XYN_EVENTS_RETAIN_DAYS, XYN_EVENTS_MAX_BYTES); ask again with since ${oldestSeq - 1} to read what is kept`,
      'EVENTS_TRUNCATED',
      { since, oldest_seq: oldestSeq },
    );
  }
}

/**
 * Another live process holds the data dir (one node per data dir). `pid`,
 * `command` and `url` name the holder; null when it could not be told (it is
 * just starting, or its lock.json cannot be read). `advice` says what to do
 * instead (default: stop it, or use another data dir).
 */
export class DataDirLockedError extends XynError {
  readonly pid: number | null;
  readonly command: string | null;
  readonly url: string | null;

  constructor(
    readonly path: string,
    holder: { pid?: number | null; command?: string | null; url?: string | null } | undefined,
    advice = 'stop it first, or use another data dir (--data DIR or XYN_DATA_DIR)',
  ) {
    const details = { path, pid: holder?.pid ?? null, command: holder?.command ?? null, url: holder?.url ?? null };
    const who = details.pid === null ? 'another process' : `pid ${details.pid} (xyn ${details.command ?? '?'}${details.url ? ` on ${details.url}` : ''})`;
    super(`data dir ${path} is in use by ${who}: ${advice}`, 'DATA_DIR_LOCKED', details);
    this.pid = details.pid;
    this.command = details.command;
    this.url = details.url;
  }
}

registerErrorClass(StorageFullError);
registerErrorClass(CorruptBlobError);
registerErrorClass(StoreWriteError);
registerErrorClass(EventsTruncatedError);
registerErrorClass(DataDirLockedError);
