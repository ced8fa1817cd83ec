/** Errors raised by the store; each names what was being stored and where. */
import { XynError, registerErrorClass } from '../kernel/errors.ts';

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

registerErrorClass(StorageFullError);
registerErrorClass(CorruptBlobError);
registerErrorClass(StoreWriteError);
registerErrorClass(EventsTruncatedError);
