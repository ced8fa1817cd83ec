/**
 * The Merkle work of certification, split across pool threads.
 *
 * RFC 9162 splits a tree of n leaves at k (the largest power of two < n):
 * MTH(D[0:n]) = nodeHash(MTH(D[0:k]), MTH(D[k:n])). Each side is computed in
 * its own thread (root, plus the audit paths of the sampled leaves inside it)
 * straight from the shared leaf buffer; the main thread joins the two halves:
 * a leaf on the left gets the right root as its last sibling, and vice versa.
 */
import type { WorkerPool } from '../kernel/worker-pool.ts';
import { HASH_BYTES, inclusionProofs, merkleRoot, nodeHash, splitPoint, type InclusionProof } from './merkle.ts';

export interface MerkleTask {
  t: 'merkle';
  slot: number;
  leaves: SharedArrayBuffer;
  start: number;
  end: number;
  /** Leaf indices inside [start, end), relative to `start`. */
  targets: number[];
}

export interface SubtreeResult {
  root: Uint8Array;
  proofs: InclusionProof[];
}

/** Worker side: the root of D[start:end] and the paths of `targets` within it. */
export function subtreeProofs(task: MerkleTask): SubtreeResult {
  const leaves = new Uint8Array(task.leaves, task.start * HASH_BYTES, (task.end - task.start) * HASH_BYTES);
  if (task.targets.length === 0) return { root: merkleRoot(leaves), proofs: [] };
  const proofs = inclusionProofs(leaves, task.targets, task.end - task.start);
  return { root: Buffer.from((proofs[0] as InclusionProof).root_hash, 'hex'), proofs };
}

/** The root of all `n` leaves and the inclusion proofs of `sample`, using two pool threads. */
export async function rootAndProofs(pool: WorkerPool, leaves: SharedArrayBuffer, n: number, sample: number[]): Promise<{ root: string; proofs: InclusionProof[] }> {
  if (n <= 1) {
    const local = subtreeProofs({ t: 'merkle', slot: -1, leaves, start: 0, end: n, targets: sample });
    return { root: Buffer.from(n === 0 ? merkleRoot(new Uint8Array(0)) : local.root).toString('hex'), proofs: local.proofs };
  }
  const k = splitPoint(n);
  const left = sample.filter((i) => i < k);
  const right = sample.filter((i) => i >= k).map((i) => i - k);
  const [l, r] = (await Promise.all([
    pool.runTask<MerkleTask>({ t: 'merkle', leaves, start: 0, end: k, targets: left }, { encode: false }),
    pool.runTask<MerkleTask>({ t: 'merkle', leaves, start: k, end: n, targets: right }, { encode: false }),
  ])) as [SubtreeResult, SubtreeResult];
  const root = nodeHash(l.root, r.root).toString('hex');
  const lHex = Buffer.from(l.root).toString('hex');
  const rHex = Buffer.from(r.root).toString('hex');
  const byIndex = new Map<number, InclusionProof>();
  for (const p of l.proofs) byIndex.set(p.leaf_index, { ...p, tree_size: n, root_hash: root, path: [...p.path, { side: 'right', hash: rHex }] });
  for (const p of r.proofs) {
    byIndex.set(p.leaf_index + k, { ...p, leaf_index: p.leaf_index + k, tree_size: n, root_hash: root, path: [...p.path, { side: 'left', hash: lHex }] });
  }
  return { root, proofs: sample.map((i) => byIndex.get(i) as InclusionProof) };
}
