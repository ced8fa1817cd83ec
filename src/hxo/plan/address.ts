/**
 * Content addresses of shards (DESIGN.md §4).
 *
 * - full address = sha256 (hex) of canonical msgpack `{executor, input, kind}`;
 *   memoization keys on it.
 * - cas_id = its first 16 hex chars: the shard's name in events, proofs and the API.
 * (output_digest = sha256 of the output's canonical msgpack: see shard-batch.ts.)
 *
 * The hot path writes the frame without building it (writeAddressFrame, on
 * core/canonical.ts's direct writer) and hands the executor the input's bytes
 * from it (copyFrameInput), so the input is encoded once.
 */
import { beginCanonical, canonicalMapHeader, canonicalOffset, canonicalPieces, canonicalString, canonicalValue, canonicalView, copyCanonical } from '../../core/canonical.ts';
import { sha256Into } from '../../kernel/sha256.ts';

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

/** Where the input's bytes lie in the frame written last: encode `frameOf`'s bytes [frameInputStart, frameInputEnd) (frameOf 0: none). */
let frameOf = 0;
let frameInputStart = 0;
let frameInputEnd = 0;

/**
 * The canonical bytes of `{executor, input, kind}` (a shard's address frame)
 * without building the wrapper object, as a view the next encode overwrites;
 * undefined when a part has a shape left to msgpackr (core/canonical.ts).
 */
export function writeAddressFrame(kind: string, executor: string, input: unknown): Uint8Array | undefined {
  const of = beginCanonical();
  frameOf = 0;
  canonicalMapHeader(3);
  canonicalString('executor');
  if (!canonicalString(executor)) return undefined;
  canonicalString('input');
  const start = canonicalOffset();
  if (!canonicalValue(input)) return undefined;
  const end = canonicalOffset();
  canonicalString('kind');
  if (!canonicalString(kind)) return undefined;
  frameOf = of;
  frameInputStart = start;
  frameInputEnd = end;
  return canonicalPieces();
}

/**
 * Copies the input's canonical bytes out of the address frame written last
 * (before any other encode) into `target`: the same bytes canonicalView(input)
 * would give, without encoding the input again. Returns their length, or -1
 * when the frame was not written by the direct writer (or `target` is too short).
 */
export function copyFrameInput(target: Uint8Array): number {
  return frameOf === 0 ? -1 : copyCanonical(frameOf, frameInputStart, frameInputEnd, target);
}
