/**
 * Content-addressed blobs: the address of a blob is the sha256 of its bytes.
 *
 * - `put` is idempotent: the same bytes give the same address and are stored once.
 * - `get` re-hashes what it reads; bytes that no longer match their address
 *   raise `CorruptBlobError` and are never returned.
 * - Owners (a plan: `plan:<id>`) hold references to blobs (`cas_refs`:
 *   `h:<hash>:<owner>` and `o:<owner>:<hash>`). Dropping an owner deletes the
 *   blobs nobody else holds; a blob no owner ever referred to is never
 *   deleted by it.
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

export type CasRefsDb = Database<number, string>;

export function casRefsDb(store: Store): CasRefsDb {
  return store.db<string, number>('cas_refs');
}

/** Inside a write: `owner` holds these blobs. */
export function addCasRefs(refs: CasRefsDb, owner: string, hashes: Iterable<string>): void {
  for (const hash of hashes) {
    void refs.put(`h:${hash}:${owner}`, 1);
    void refs.put(`o:${owner}:${hash}`, 1);
  }
}

/** What dropping an owner's references did (so far, when `done` is false). */
export interface DroppedRefs {
  refs: number;
  blobs: number;
  bytes: number;
  done: boolean;
}

/**
 * Inside a write: drops up to `limit` of `owner`'s references and deletes
 * each blob no other owner holds. Called again until `done`, so no one
 * transaction is large. With `dryRun`, only counts what it would free.
 */
export function dropCasRefs(refs: CasRefsDb, blobs: Database<Uint8Array, string>, owner: string, limit: number, dryRun = false): DroppedRefs {
  const out: DroppedRefs = { refs: 0, blobs: 0, bytes: 0, done: true };
  const prefix = `o:${owner}:`;
  for (const key of refs.getKeys({ start: prefix, end: `o:${owner};` })) {
    if (out.refs >= limit) {
      out.done = false;
      break;
    }
    const hash = key.slice(prefix.length);
    out.refs++;
    const others = [...refs.getKeys({ start: `h:${hash}:`, end: `h:${hash};`, limit: 2 })].some((k) => k !== `h:${hash}:${owner}`);
    if (!others) {
      const size = blobs.getBinaryFast(hash)?.length;
      if (size !== undefined) {
        out.blobs++;
        out.bytes += size;
        if (!dryRun) void blobs.remove(hash);
      }
    }
    if (!dryRun) {
      void refs.remove(key);
      void refs.remove(`h:${hash}:${owner}`);
    }
  }
  return out;
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
