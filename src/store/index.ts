/** The store: one LMDB environment, CAS blobs, the event log. */
export { Store, openStore, DB_NAMES, type DbName, type StoreOptions } from './env.ts';
export { Cas, sha256Hex } from './cas.ts';
export { EventLog, type LogRange } from './event-log.ts';
export { StorageFullError, CorruptBlobError, StoreWriteError } from './errors.ts';
