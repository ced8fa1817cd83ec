/**
 * Content addresses of shards and outputs (DESIGN.md §4).
 *
 * - full address = sha256 (hex) of canonical msgpack `{executor, input, kind}`;
 *   memoization keys on it.
 * - cas_id = its first 16 hex chars: the shard's name in events, proofs and the API.
 * - output_digest = sha256 (hex) of the canonical msgpack of the executor output.
 */
import { hash } from 'node:crypto';
import { canonicalEncode } from '../kernel/codec.ts';

export interface ShardAddress {
  full: string;
  casId: string;
}

export function shardAddress(kind: string, executor: string, input: unknown): ShardAddress {
  // Keys already in sorted order: canonicalEncode sorts nested maps too.
  const full = hash('sha256', canonicalEncode({ executor, input, kind }), 'hex');
  return { full, casId: full.slice(0, 16) };
}

/** The canonical bytes of an output and their digest (the output's CAS address). */
export function encodeOutput(output: unknown): { bytes: Uint8Array; digest: string } {
  const bytes = canonicalEncode(output);
  return { bytes, digest: hash('sha256', bytes, 'hex') };
}
