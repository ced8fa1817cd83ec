/**
 * Content addresses of shards (DESIGN.md §4).
 *
 * - full address = sha256 (hex) of canonical msgpack `{executor, input, kind}`;
 *   memoization keys on it.
 * - cas_id = its first 16 hex chars: the shard's name in events, proofs and the API.
 * (output_digest = sha256 of the output's canonical msgpack: see shard-batch.ts.)
 */
import { canonicalView, writeAddressFrame } from '../core/canonical.ts';
import { sha256Into } from '../kernel/sha256.ts';

export interface ShardAddress {
  full: string;
  casId: string;
}

const digest = Buffer.alloc(32);

export function shardAddress(kind: string, executor: string, input: unknown): ShardAddress {
  shardAddressInto(kind, executor, input, digest, 0);
  const full = digest.toString('hex');
  return { full, casId: full.slice(0, 16) };
}

/** The full address as raw bytes, at out[offset .. offset + 32) (its first 8 are the cas_id's). */
export function shardAddressInto(kind: string, executor: string, input: unknown, out: Uint8Array, offset: number): void {
  sha256Into(writeAddressFrame(kind, executor, input) ?? canonicalView({ executor, input, kind }), out, offset);
}

/** The cas_id of shard j of a batch, from the batch's raw cas_ids (8 bytes each). */
export function casIdAt(cas: Uint8Array, j: number): string {
  return Buffer.from(cas.buffer, cas.byteOffset + j * 8, 8).toString('hex');
}
