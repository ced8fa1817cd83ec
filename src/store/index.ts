/** The store: one LMDB environment, CAS blobs, the event log, the data dir's lock. */
export { Store, openStore, DB_NAMES, type DbName, type StoreOptions } from './env.ts';
export { Cas, sha256Hex } from './cas.ts';
export { EventLog, type LogRange } from './event-log.ts';
export { lockDataDir, withDataDirLock, dataDirHolder, HOLDER_FILE, type DataDirLock, type LockHolder } from './data-dir-lock.ts';
export { StorageFullError, CorruptBlobError, StoreWriteError, DataDirLockedError } from './errors.ts';
