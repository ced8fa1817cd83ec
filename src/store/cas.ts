/**
 * Content-addressed blobs: the address of a blob is the sha256 of its bytes.
 *
 * - `put` is idempotent: the same bytes give the same address and are stored once.
 * - `get` re-hashes what it reads; bytes that no longer match their address
 *   raise `CorruptBlobError` and are never returned.
 *
 *   const hash = await cas.put(new TextEncoder().encode('hello'));
 *   cas.get(hash); // the same bytes, checked
 */
import { createHash } from 'node:crypto';
import type { Database } from 'lmdb';
import type { Store } from './env.ts';
import { CorruptBlobError } from './errors.ts';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const HASH_RE = /^[0-9a-f]{64}$/;

/** The blobs database: sha256 hex → bytes (shard workers write artifacts into it directly). */
export function casDb(store: Store): Database<Uint8Array, string> {
  return store.db<string, Uint8Array>('cas', { binary: true });
}

export class Cas {
  private readonly blobs: Database<Uint8Array, string>;

  constructor(private readonly store: Store) {
    this.blobs = casDb(store);
  }

  /** Stores bytes and resolves with their address once they are durable. */
  async put(bytes: Uint8Array): Promise<string> {
    const [hash] = await this.putMany([bytes]);
    return hash as string;
  }

  /** Stores many blobs in one transaction; addresses in input order. */
  async putMany(blobs: readonly Uint8Array[]): Promise<string[]> {
    const hashes = blobs.map(sha256Hex);
    await this.store.write(() => {
      blobs.forEach((bytes, i) => {
        const hash = hashes[i] as string;
        if (this.blobs.getBinaryFast(hash) === undefined) void this.blobs.put(hash, bytes);
      });
    });
    return hashes;
  }

  has(hash: string): boolean {
    return HASH_RE.test(hash) && this.blobs.doesExist(hash);
  }

  /** The blob's bytes, verified against its address; undefined if absent. */
  get(hash: string): Uint8Array | undefined {
    if (!HASH_RE.test(hash)) return undefined;
    const bytes = this.blobs.getBinary(hash);
    if (bytes === undefined) return undefined;
    const actual = sha256Hex(bytes);
    if (actual !== hash) throw new CorruptBlobError(hash, actual);
    return bytes;
  }
}
