/**
 * The Merkle work of certification: one parallel pass, then cheap proofs.
 *
 * In an RFC 9162 tree every aligned, full block of B leaves (B a power of
 * two) is a node: a node [lo, hi) always starts at a multiple of the largest
 * power of two not above its size. So the pool threads hash the full blocks
 * (all but at most B-1 leaves, split evenly between threads, straight from
 * the shared leaf buffer), and the main thread finishes the tree from the
 * block roots — about n/B node hashes — and answers inclusion proofs
 * descending into a block's leaves only where a sampled leaf is (≤ 2B hashes
 * a proof). Nodes above the blocks are kept once computed, so nothing there
 * is hashed twice.
 */
import type { WorkerPool } from '../../kernel/worker-pool.ts';
import type { PoolTask } from '../../kernel/pool-protocol.ts';
import { perfectRoots } from './leaf-hash.ts';
import { HASH_BYTES, merkleRoot, nodeHash, splitPoint, type InclusionProof, type ProofStep } from './merkle.ts';

export const BLOCK = 1024;

export interface MerkleTask extends PoolTask {
  t: 'merkle';
  leaves: SharedArrayBuffer;
  /** Block indices [from, to): block b covers leaves [b·BLOCK, (b+1)·BLOCK). */
  from: number;
  to: number;
}

/** Worker side, the `merkle` task (pool-tasks.ts): the roots of blocks [from, to), 32 bytes each. */
export function blockRoots(task: MerkleTask): Uint8Array {
  const leaves = new Uint8Array(task.leaves);
  const out = new Uint8Array((task.to - task.from) * HASH_BYTES);
  if (perfectRoots) perfectRoots(leaves, task.from, task.to, BLOCK, out);
  else for (let b = task.from; b < task.to; b++) out.set(merkleRoot(leaves, b * BLOCK, (b + 1) * BLOCK), (b - task.from) * HASH_BYTES);
  return out;
}

export class BlockedTree {
  /** Nodes above the blocks, by `lo:hi`: the root computes them, proofs reuse them. */
  private readonly nodes = new Map<string, Buffer>();

  private constructor(
    private readonly leaves: Uint8Array,
    readonly size: number,
    private readonly blocks: Uint8Array,
  ) {}

  /** Hashes the full blocks of `n` leaves on the pool's threads. */
  static async build(pool: WorkerPool, leaves: SharedArrayBuffer, n: number): Promise<BlockedTree> {
    const full = Math.floor(n / BLOCK);
    const parts = Math.max(1, Math.min(pool.size, full));
    const per = Math.ceil(full / parts);
    const tasks: Promise<unknown>[] = [];
    for (let from = 0; from < full; from += per) {
      tasks.push(pool.runTask<MerkleTask>({ t: 'merkle', leaves, from, to: Math.min(full, from + per) }, { encode: false }));
    }
    const blocks = new Uint8Array(full * HASH_BYTES);
    let at = 0;
    for (const roots of (await Promise.all(tasks)) as Uint8Array[]) {
      blocks.set(roots, at);
      at += roots.length;
    }
    return new BlockedTree(new Uint8Array(leaves, 0, n * HASH_BYTES), n, blocks);
  }

  /** MTH(D[0:n]); sha256('') for the empty tree. */
  root(): Buffer {
    return this.size === 0 ? merkleRoot(new Uint8Array(0)) : this.mth(0, this.size);
  }

  /** The RFC 9162 inclusion proof of leaf `index`. */
  proof(index: number, root: string = this.root().toString('hex')): InclusionProof {
    const path: ProofStep[] = [];
    let lo = 0;
    let hi = this.size;
    const steps: ProofStep[] = [];
    while (hi - lo > 1) {
      const mid = lo + splitPoint(hi - lo);
      if (index < mid) {
        steps.push({ side: 'right', hash: this.mth(mid, hi).toString('hex') });
        hi = mid;
      } else {
        steps.push({ side: 'left', hash: this.mth(lo, mid).toString('hex') });
        lo = mid;
      }
    }
    // Collected root-down; a proof lists siblings leaf-up.
    for (let i = steps.length - 1; i >= 0; i--) path.push(steps[i] as ProofStep);
    return {
      leaf_index: index,
      tree_size: this.size,
      leaf_hash: Buffer.from(this.leaves.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES)).toString('hex'),
      path,
      root_hash: root,
    };
  }

  /**
   * The leaves where this tree and `other` (of the same size) differ, found
   * by bisection: from the root down, only into subtrees whose hashes differ.
   */
  differences(other: BlockedTree): number[] {
    if (other.size !== this.size) throw new RangeError(`trees of ${this.size} and ${other.size} leaves`);
    const out: number[] = [];
    const descend = (lo: number, hi: number): void => {
      if (this.mth(lo, hi).equals(other.mth(lo, hi))) return;
      if (hi - lo === 1) {
        out.push(lo);
        return;
      }
      const mid = lo + splitPoint(hi - lo);
      descend(lo, mid);
      descend(mid, hi);
    };
    if (this.size > 0) descend(0, this.size);
    return out;
  }

  /** MTH(D[lo:hi]) for a node of the tree, from cached block roots where it can. */
  private mth(lo: number, hi: number): Buffer {
    if (hi - lo === BLOCK && lo % BLOCK === 0) {
      const b = lo / BLOCK;
      return Buffer.from(this.blocks.subarray(b * HASH_BYTES, (b + 1) * HASH_BYTES));
    }
    if (hi - lo < BLOCK) return merkleRoot(this.leaves, lo, hi);
    const key = `${lo}:${hi}`;
    let node = this.nodes.get(key);
    if (!node) {
      const mid = lo + splitPoint(hi - lo);
      node = nodeHash(this.mth(lo, mid), this.mth(mid, hi));
      this.nodes.set(key, node);
    }
    return node;
  }
}
