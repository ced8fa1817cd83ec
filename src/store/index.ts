/** The store: one LMDB environment, CAS blobs, the event log and its retention. */
export { Store, openStore, DB_NAMES, type DbName, type StoreOptions } from './env.ts';
export { Cas, sha256Hex } from './cas.ts';
export { EventLog, TRIM_CHUNK, type LogRange, type LogFootprint } from './event-log.ts';
export { EventRetention, DAY_MS, type RetentionOptions, type RetentionPolicy, type RetentionStats, type TrimReport } from './event-retention.ts';
export { StorageFullError, CorruptBlobError, StoreWriteError, EventsTruncatedError } from './errors.ts';
