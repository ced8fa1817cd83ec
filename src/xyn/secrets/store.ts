/**
 * The SecretStore contract (seed 004 §26.3): secrets by path, never by value
 * in anything but `get`'s answer. Backends (env-store.ts, file-store.ts, the
 * chain of them in chain-store.ts) are swapped behind it; a later Vault or
 * cloud secrets manager is one more implementation.
 *
 *   await store.put('deploy-key', pem, { owner: 'ops' });
 *   await store.get('deploy-key');            // the value; SecretNotFoundError naming where it looked
 *   await store.list('sys/');                 // [{ path, metadata, updated_at }]: never values
 */

/** What may be said of a secret besides its value: who owns it, what it is for. Never the value. */
export type SecretMetadata = Record<string, string>;

/** A secret as a listing shows it. */
export interface SecretEntry {
  path: string;
  metadata: SecretMetadata;
  /** ISO-8601 time it was last put. */
  updated_at: string;
}

export interface SecretStore {
  /** Where it keeps secrets, for messages: `the environment (XYN_SECRET_*)`, a file's path. */
  readonly name: string;
  /** The value; throws SecretNotFoundError naming where it looked. */
  get(path: string): Promise<string>;
  /** Sets (or replaces) the secret; answers whether it is new. */
  put(path: string, value: string, metadata?: SecretMetadata): Promise<{ created: boolean }>;
  /** Secrets whose path starts with `prefix`, sorted by path: paths and metadata only. */
  list(prefix?: string): Promise<SecretEntry[]>;
  /** Removes the secret; answers whether there was one. */
  delete(path: string): Promise<boolean>;
}
