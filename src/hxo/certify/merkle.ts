/**
 * RFC 9162 §2.1 Merkle trees over SHA-256: the root that certifies a plan's
 * outputs, and the audit paths that prove one shard's output is under it.
 *
 * - A leaf is `cas_id (16 ASCII bytes) ‖ output_digest (32 raw bytes)`;
 *   its hash is sha256(0x00 ‖ leaf), an inner node is sha256(0x01 ‖ l ‖ r).
 * - Leaf hashes sit side by side in one `Uint8Array` of n×32 bytes (which may
 *   live on a SharedArrayBuffer), so a million of them cost 32 MB and no objects.
 * - MTH(D[0:n]) = nodeHash(MTH(D[0:k]), MTH(D[k:n])) with k = splitPoint(n),
 *   the largest power of two < n. The engine can therefore compute the two
 *   top subtrees in two threads and join them with `combineRoots`:
 *
 *     const k = splitPoint(n);
 *     const root = combineRoots(merkleRoot(leaves, 0, k), merkleRoot(leaves, k, n));
 *
 * Hashing uses `crypto.hash` (one call, no Hash object): about 1.6× faster than
 * createHash for 49- and 65-byte inputs, which is all a Merkle tree ever hashes.
 */
import { hash } from 'node:crypto';
import { sha256Into } from '../../kernel/sha256.ts';
import { perfectRoots } from './leaf-hash.ts';
import { MerkleInputError } from '../errors.ts';
import { checkCasId, checkDigest } from './report-checks.ts';

// Checking a proof needs no Node (the browser does it too): report-checks.ts.
export { verifyInclusion } from './report-checks.ts';

export const HASH_BYTES = 32;

/** One step of an audit path: `side` is where the SIBLING stands relative to the path node. */
export interface ProofStep {
  side: 'left' | 'right';
  hash: string;
}

/** RFC 9162 inclusion proof of leaf `leaf_index` in a tree of `tree_size` leaves; hashes in hex. */
export interface InclusionProof {
  leaf_index: number;
  tree_size: number;
  leaf_hash: string;
  /** Siblings from the leaf up to (not including) the root: PATH(m, D[n]) of §2.1.3.1. */
  path: ProofStep[];
  root_hash: string;
}

const EMPTY_ROOT = hash('sha256', new Uint8Array(0), 'buffer');

// Reused inputs: every node hash is 0x01 ‖ 64 bytes, every leaf hash 0x00 ‖ 48
// bytes, so both are assembled in place instead of concatenated per call.
// Safe because everything here is synchronous (each worker thread has its own).
const nodeScratch = Buffer.alloc(1 + 2 * HASH_BYTES, 0);
nodeScratch[0] = 0x01;
const leafScratch = Buffer.alloc(1 + 16 + HASH_BYTES, 0);

// Complete subtrees of up to CHUNK leaves are reduced level by level inside one
// 16 KB buffer (stays in cache); bigger ones recurse on halves down to CHUNK.
const CHUNK = 1024;
const work = Buffer.allocUnsafe((CHUNK / 2) * HASH_BYTES);

/** The 48 bytes of a leaf: the 16 ASCII bytes of cas_id ‖ the 32 raw bytes of output_digest. */
export function leafData(casId: string, outputDigestHex: string): Buffer {
  checkCasId(casId);
  checkDigest(outputDigestHex);
  const data = Buffer.allocUnsafe(16 + HASH_BYTES);
  data.write(casId, 0, 16, 'latin1');
  data.write(outputDigestHex, 16, HASH_BYTES, 'hex');
  return data;
}

/** sha256(0x00 ‖ data): the hash of a leaf (RFC 9162 §2.1.1). */
export function leafHash(data: Uint8Array): Buffer {
  const input = Buffer.allocUnsafe(1 + data.length);
  input[0] = 0x00;
  input.set(data, 1);
  return hash('sha256', input, 'buffer');
}

/**
 * leafHash(leafData(casId, digestHex)) without the intermediate buffers. With
 * `out`, the hash is also written at `out[outOffset..outOffset+32)`, e.g.
 * straight into the engine's leaf array at `index * 32`.
 */
export function leafHashOf(casId: string, digestHex: string, out?: Uint8Array, outOffset = 0): Buffer {
  checkCasId(casId);
  checkDigest(digestHex);
  const h = Buffer.allocUnsafe(HASH_BYTES);
  leafHashInto(casId, Buffer.from(digestHex, 'hex'), h, 0);
  if (out !== undefined) {
    if (!Number.isSafeInteger(outOffset) || outOffset < 0 || outOffset + HASH_BYTES > out.length) {
      throw new MerkleInputError('outOffset', `${outOffset} leaves no room for 32 bytes in a buffer of ${out.length}`);
    }
    out.set(h, outOffset);
  }
  return h;
}

/**
 * The hot path's leaf hash: sha256(0x00 ‖ cas_id ‖ digest), with the raw
 * 32-byte digest, written at out[outOffset..outOffset+32). No checks, no allocation.
 */
export function leafHashInto(casId: string, digest: Uint8Array, out: Uint8Array, outOffset: number): void {
  leafScratch.write(casId, 1, 16, 'latin1');
  leafScratch.set(digest, 17);
  sha256Into(leafScratch, out, outOffset);
}

function nodeHashRaw(left: Uint8Array, right: Uint8Array): Buffer {
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_BYTES);
  return hash('sha256', nodeScratch, 'buffer');
}

/** sha256(0x01 ‖ left ‖ right): the hash of an inner node (RFC 9162 §2.1.1). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_BYTES) throw new MerkleInputError('left', `must be 32 bytes, got ${left.length}`);
  if (right.length !== HASH_BYTES) throw new MerkleInputError('right', `must be 32 bytes, got ${right.length}`);
  return nodeHashRaw(left, right);
}

/**
 * Joins the roots of D[0:k] and D[k:n] (k = splitPoint(n)) into MTH(D[0:n]).
 * The same as nodeHash; named for what the engine uses it for.
 */
export function combineRoots(leftRoot: Uint8Array, rightRoot: Uint8Array): Buffer {
  return nodeHash(leftRoot, rightRoot);
}

/** The largest power of two strictly less than n (n ≥ 2): where RFC 9162 splits a tree of n leaves. */
export function splitPoint(n: number): number {
  if (!Number.isSafeInteger(n) || n < 2) throw new MerkleInputError('n', `a split needs an integer n ≥ 2, got ${n}`);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function largestPowerOfTwoAtMost(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Hashes the 64 bytes at src[off..off+64) as a node into dst[dOff..dOff+32). */
function hashPairInto(src: Buffer, off: number, dst: Buffer, dOff: number): void {
  src.copy(nodeScratch, 1, off, off + 2 * HASH_BYTES);
  hash('sha256', nodeScratch, 'buffer').copy(dst, dOff);
}

/** Root of the complete subtree of `size` (a power of two ≥ 2, ≤ CHUNK) leaves starting at leaf `at`. */
function chunkRoot(leaves: Buffer, at: number, size: number): Buffer {
  // Aligned (every node of the tree is): one native call hashes the whole subtree.
  if (perfectRoots && at % size === 0) {
    const out = Buffer.allocUnsafe(HASH_BYTES);
    perfectRoots(leaves, at / size, at / size + 1, size, out);
    return out;
  }
  let count = size / 2;
  const base = at * HASH_BYTES;
  for (let i = 0; i < count; i++) hashPairInto(leaves, base + i * 2 * HASH_BYTES, work, i * HASH_BYTES);
  // Upper levels in place: node i reads slots 2i and 2i+1, which are never
  // before slot i, and is copied out into nodeScratch before slot i is written.
  while (count > 1) {
    count /= 2;
    for (let i = 0; i < count; i++) hashPairInto(work, i * 2 * HASH_BYTES, work, i * HASH_BYTES);
  }
  return Buffer.from(work.subarray(0, HASH_BYTES));
}

/** Root of the complete subtree of `size` (a power of two) leaves starting at leaf `at`. */
function completeRoot(leaves: Buffer, at: number, size: number): Buffer {
  if (size === 1) return Buffer.from(leaves.subarray(at * HASH_BYTES, (at + 1) * HASH_BYTES));
  if (size <= CHUNK) return chunkRoot(leaves, at, size);
  const half = size / 2;
  return nodeHashRaw(completeRoot(leaves, at, half), completeRoot(leaves, at + half, half));
}

/**
 * MTH(D[start:end]) without checks. A tree of n leaves is, by the RFC's split,
 * the complete subtrees given by n's binary digits (largest first) joined from
 * the right: MTH = node(c1, node(c2, ... node(c_{j-1}, c_j))).
 */
function rangeRoot(leaves: Buffer, start: number, end: number): Buffer {
  let n = end - start;
  if (n === 0) return Buffer.from(EMPTY_ROOT);
  const roots: Buffer[] = [];
  let at = start;
  while (n > 0) {
    const size = largestPowerOfTwoAtMost(n);
    roots.push(completeRoot(leaves, at, size));
    at += size;
    n -= size;
  }
  let acc = roots.pop() as Buffer;
  for (let i = roots.length - 1; i >= 0; i--) acc = nodeHashRaw(roots[i] as Buffer, acc);
  return acc;
}

function leafCount(leaves: Uint8Array): number {
  if (!(leaves instanceof Uint8Array)) throw new MerkleInputError('leaves', 'must be a Uint8Array of n×32 bytes');
  if (leaves.length % HASH_BYTES !== 0) {
    throw new MerkleInputError('leaves', `length ${leaves.length} is not a multiple of 32 bytes`);
  }
  return leaves.length / HASH_BYTES;
}

/**
 * MTH(D[start:end]) of RFC 9162 §2.1.1 over the leaf hashes in `leaves`
 * (leaf i at bytes [32i, 32i+32)); the empty tree's root is sha256('').
 */
export function merkleRoot(leaves: Uint8Array, start = 0, end?: number): Buffer {
  const n = leafCount(leaves);
  const stop = end ?? n;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(stop) || start < 0 || start > stop || stop > n) {
    throw new MerkleInputError('range', `[${start}, ${stop}) is not a range within ${n} leaves`);
  }
  return rangeRoot(asBuffer(leaves), start, stop);
}

/**
 * Walks the RFC split down to every target leaf; subtrees holding no target
 * are hashed in one go by `rangeRoot`, so each leaf is hashed once however
 * many proofs are asked for. Siblings are appended deepest first.
 */
function visit(leaves: Buffer, lo: number, hi: number, targets: number[], paths: Map<number, ProofStep[]>): Buffer {
  if (targets.length === 0) return rangeRoot(leaves, lo, hi);
  if (hi - lo === 1) return Buffer.from(leaves.subarray(lo * HASH_BYTES, hi * HASH_BYTES));
  const mid = lo + splitPoint(hi - lo);
  const inLeft = targets.filter((t) => t < mid);
  const inRight = targets.filter((t) => t >= mid);
  const left = visit(leaves, lo, mid, inLeft, paths);
  const right = visit(leaves, mid, hi, inRight, paths);
  if (inLeft.length > 0) {
    const step: ProofStep = { side: 'right', hash: right.toString('hex') };
    for (const t of inLeft) paths.get(t)?.push({ ...step });
  }
  if (inRight.length > 0) {
    const step: ProofStep = { side: 'left', hash: left.toString('hex') };
    for (const t of inRight) paths.get(t)?.push({ ...step });
  }
  return nodeHashRaw(left, right);
}

/**
 * Inclusion proofs for several leaves of the tree D[0:treeSize], in the order
 * of `indices`, in one pass over the leaves (O(n + proofs × log n) hashes).
 */
export function inclusionProofs(leaves: Uint8Array, indices: readonly number[], treeSize: number): InclusionProof[] {
  const available = leafCount(leaves);
  if (!Number.isSafeInteger(treeSize) || treeSize < 1 || treeSize > available) {
    throw new MerkleInputError('tree_size', `must be an integer in [1, ${available}], got ${treeSize}`);
  }
  for (const index of indices) {
    if (!Number.isSafeInteger(index) || index < 0 || index >= treeSize) {
      throw new MerkleInputError('leaf_index', `must be an integer in [0, ${treeSize}), got ${index}`);
    }
  }
  const buf = asBuffer(leaves);
  const targets = [...new Set(indices)].sort((a, b) => a - b);
  const paths = new Map<number, ProofStep[]>(targets.map((t) => [t, []]));
  const root = visit(buf, 0, treeSize, targets, paths).toString('hex');
  return indices.map((index) => ({
    leaf_index: index,
    tree_size: treeSize,
    leaf_hash: buf.toString('hex', index * HASH_BYTES, (index + 1) * HASH_BYTES),
    path: (paths.get(index) ?? []).map((step) => ({ ...step })),
    root_hash: root,
  }));
}

/** The RFC 9162 audit path PATH(index, D[0:treeSize]) with the leaf hash and root it leads to. */
export function inclusionProof(leaves: Uint8Array, index: number, treeSize: number): InclusionProof {
  return inclusionProofs(leaves, [index], treeSize)[0] as InclusionProof;
}
