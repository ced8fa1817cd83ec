/**
 * Bytes streamed into the CAS in chunks of CHUNK_BYTES, each written with
 * its reference (owner `artifact:<id>`) in one transaction, so an upload of
 * any size costs one chunk of memory, and a chunk no record ends up naming
 * is found by its owner and dropped. The sha256 of the whole is computed as
 * the bytes pass; the limits (one artifact's, the quota) are checked on
 * every piece, so a refusal comes as soon as the bytes pass a limit.
 *
 *   const written = await writeChunks(store, owner, body, { maxBytes, room: () => quota - used });
 *   written.chunks; written.sha256; written.byte_length
 */
import { createHash } from 'node:crypto';
import type { Store } from '../../store/env.ts';
import { addCasRefs, casDb, casRefsDb, dropCasRefs, sha256Hex } from '../../store/cas.ts';
import { CHUNK_BYTES } from './records.ts';

export interface WrittenChunks {
  chunks: string[];
  sha256: string;
  byte_length: number;
}

export interface ChunkLimits {
  /** Past this many bytes the upload fails with `tooLarge()`. */
  maxBytes: number;
  tooLarge(): Error;
  /** Checked as bytes arrive (`total` so far): throws when they may not be kept. */
  admit(total: number): void;
}

/** Drops refs a few hundred at a time: no one transaction is large. */
const DROP_BATCH = 500;

/** Writes `body` as chunks held by `owner`; on any failure drops what it wrote and rethrows. */
export async function writeChunks(store: Store, owner: string, body: AsyncIterable<Uint8Array>, limits: ChunkLimits): Promise<WrittenChunks> {
  const blobs = casDb(store);
  const refs = casRefsDb(store);
  const whole = createHash('sha256');
  const chunks: string[] = [];
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let filled = 0;
  let total = 0;
  const flush = async (): Promise<void> => {
    const bytes = buffer.subarray(0, filled);
    const hash = sha256Hex(bytes);
    await store.write(() => {
      if (blobs.getBinaryFast(hash) === undefined) void blobs.put(hash, bytes);
      addCasRefs(refs, owner, [hash]);
    });
    // The write copied the bytes into the map: the buffer is free again.
    chunks.push(hash);
    filled = 0;
  };
  try {
    for await (const piece of body) {
      total += piece.byteLength;
      if (total > limits.maxBytes) throw limits.tooLarge();
      limits.admit(total);
      whole.update(piece);
      for (let at = 0; at < piece.byteLength; ) {
        const n = Math.min(CHUNK_BYTES - filled, piece.byteLength - at);
        buffer.set(piece.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === CHUNK_BYTES) await flush();
      }
    }
    if (filled > 0) await flush();
  } catch (err) {
    await dropChunks(store, owner);
    throw err;
  }
  return { chunks, sha256: whole.digest('hex'), byte_length: total };
}

/** Drops `owner`'s references; the chunks nobody else holds go with them. */
export async function dropChunks(store: Store, owner: string): Promise<void> {
  const blobs = casDb(store);
  const refs = casRefsDb(store);
  for (let done = false; !done; ) done = await store.write(() => dropCasRefs(refs, blobs, owner, DROP_BATCH).done);
}
