/** The store: one LMDB environment, CAS blobs, the event log and its retention, the data dir's lock. */
export { Store, openStore, DB_NAMES, type DbName, type StoreOptions } from './env.ts';
export { Cas, sha256Hex } from './cas.ts';
export { EventLog, TRIM_CHUNK, type LogRange, type LogFootprint } from './event-log.ts';
export { EventRetention, DAY_MS, type RetentionOptions, type RetentionPolicy, type RetentionStats, type TrimReport } from './event-retention.ts';
export { compactStore, type Compaction } from './compact.ts';
export { lockDataDir, withDataDirLock, dataDirHolder, HOLDER_FILE, type DataDirLock, type LockHolder } from './data-dir-lock.ts';
export { StorageFullError, CorruptBlobError, StoreWriteError, EventsTruncatedError, DataDirLockedError } from './errors.ts';
