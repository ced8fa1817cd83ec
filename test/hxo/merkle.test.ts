/**
 * Merkle trees against RFC 9162: roots match a naive recursive MTH for many
 * sizes, every audit path verifies, and any single change to a proof (a byte
 * of a hash, a side, the index) makes it fail.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MerkleInputError } from '../../src/hxo/errors.ts';
import {
  combineRoots,
  inclusionProof,
  inclusionProofs,
  leafData,
  leafHash,
  leafHashOf,
  merkleRoot,
  nodeHash,
  splitPoint,
  verifyInclusion,
  type InclusionProof,
} from '../../src/hxo/certify/merkle.ts';

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** MTH(D[n]) exactly as RFC 9162 §2.1.1 writes it, over leaf hashes. */
function referenceRoot(hashes: Buffer[]): Buffer {
  if (hashes.length === 0) return sha256(new Uint8Array(0));
  if (hashes.length === 1) return hashes[0] as Buffer;
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return sha256(Buffer.from([1]), referenceRoot(hashes.slice(0, k)), referenceRoot(hashes.slice(k)));
}

const split = (leaves: Uint8Array): Buffer[] =>
  Array.from({ length: leaves.length / 32 }, (_, i) => Buffer.from(leaves.subarray(i * 32, i * 32 + 32)));

/** Changes one hex digit (one nibble of one byte) at position `at`. */
const flipHex = (hex: string, at: number): string => hex.slice(0, at) + ((parseInt(hex[at] as string, 16) ^ 1).toString(16)) + hex.slice(at + 1);

describe('leaves and nodes', () => {
  const casId = '0123456789abcdef';
  const digest = 'ab'.repeat(32);

  it('leafData is the 16 ASCII bytes of cas_id then the 32 raw digest bytes', () => {
    const data = leafData(casId, digest);
    expect(data.length).toBe(48);
    expect(data.subarray(0, 16).toString('latin1')).toBe(casId);
    expect(data.subarray(16).toString('hex')).toBe(digest);
  });

  it('leafHash and nodeHash carry the RFC domain prefixes', () => {
    const data = leafData(casId, digest);
    expect(leafHash(data)).toEqual(sha256(Buffer.from([0]), data));
    const l = randomBytes(32);
    const r = randomBytes(32);
    expect(nodeHash(l, r)).toEqual(sha256(Buffer.from([1]), l, r));
    expect(combineRoots(l, r)).toEqual(nodeHash(l, r));
  });

  it('leafHashOf equals leafHash(leafData) and can write into a leaf array', () => {
    const out = new Uint8Array(new SharedArrayBuffer(96));
    const h = leafHashOf(casId, digest, out, 32);
    expect(h).toEqual(leafHash(leafData(casId, digest)));
    expect(Buffer.from(out.subarray(32, 64))).toEqual(h);
    expect(Buffer.from(out.subarray(0, 32))).toEqual(Buffer.alloc(32));
    expect(() => leafHashOf(casId, digest, out, 80)).toThrow(MerkleInputError);
  });

  it('rejects malformed cas_id and digests with a typed error', () => {
    for (const [c, d] of [
      ['0123456789abcde', digest],
      ['0123456789abcdefa', digest],
      ['0123456789abcdeg', digest],
      [casId, 'ab'.repeat(31)],
      [casId, 'zz'.repeat(32)],
      [casId, 'AB'.repeat(32)],
    ] as const) {
      expect(() => leafData(c, d)).toThrow(MerkleInputError);
      expect(() => leafHashOf(c, d)).toThrow(MerkleInputError);
    }
    expect(() => nodeHash(randomBytes(31), randomBytes(32))).toThrow(MerkleInputError);
  });

  it('splitPoint is the largest power of two below n', () => {
    expect([2, 3, 4, 5, 8, 9, 1000, 1024, 1025].map(splitPoint)).toEqual([1, 2, 2, 4, 4, 8, 512, 512, 1024]);
    expect(() => splitPoint(1)).toThrow(MerkleInputError);
  });
});

describe('merkleRoot', () => {
  it('is sha256("") for the empty tree and the leaf hash for one leaf', () => {
    expect(merkleRoot(new Uint8Array(0))).toEqual(sha256(new Uint8Array(0)));
    const one = randomBytes(32);
    expect(merkleRoot(one)).toEqual(one);
  });

  it('matches the recursive RFC 9162 definition for n = 0..70', () => {
    for (let n = 0; n <= 70; n++) {
      const leaves = randomBytes(n * 32);
      expect(merkleRoot(leaves).toString('hex'), `n=${n}`).toBe(referenceRoot(split(leaves)).toString('hex'));
    }
  });

  it.each([1000, 1023, 1024, 1025, 2049, 4096, 100_000])('matches the reference for n = %i', (n) => {
    const leaves = randomBytes(n * 32);
    expect(merkleRoot(leaves).toString('hex')).toBe(referenceRoot(split(leaves)).toString('hex'));
  });

  it('computes sub-ranges and accepts SharedArrayBuffer-backed leaves', () => {
    const n = 3000;
    const leaves = new Uint8Array(new SharedArrayBuffer(n * 32));
    leaves.set(randomBytes(n * 32));
    const hashes = split(leaves);
    for (const [s, e] of [
      [0, 0],
      [5, 6],
      [7, 1500],
      [1024, 3000],
      [17, 2999],
    ] as const) {
      expect(merkleRoot(leaves, s, e).toString('hex'), `[${s},${e})`).toBe(referenceRoot(hashes.slice(s, e)).toString('hex'));
    }
  });

  it('rejects bad ranges and ragged leaf arrays', () => {
    const leaves = randomBytes(10 * 32);
    expect(() => merkleRoot(leaves, 0, 11)).toThrow(MerkleInputError);
    expect(() => merkleRoot(leaves, 5, 4)).toThrow(MerkleInputError);
    expect(() => merkleRoot(leaves, -1)).toThrow(MerkleInputError);
    expect(() => merkleRoot(randomBytes(33))).toThrow(MerkleInputError);
  });

  it('computes a 1,000,000-leaf root equal to its two top subtrees combined', () => {
    const n = 1_000_000;
    const leaves = randomBytes(n * 32);
    const root = merkleRoot(leaves);
    const k = splitPoint(n);
    expect(k).toBe(524_288);
    expect(root).toEqual(combineRoots(merkleRoot(leaves, 0, k), merkleRoot(leaves, k, n)));
  });
});

describe('inclusion proofs', () => {
  it('verify for every index of trees of 1..40 leaves, with the root and leaf they name', () => {
    for (let n = 1; n <= 40; n++) {
      const leaves = randomBytes(n * 32);
      const root = merkleRoot(leaves).toString('hex');
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(leaves, i, n);
        expect(proof.root_hash).toBe(root);
        expect(proof.leaf_hash).toBe(leaves.subarray(i * 32, i * 32 + 32).toString('hex'));
        expect(proof.leaf_index).toBe(i);
        expect(proof.tree_size).toBe(n);
        expect(verifyInclusion(proof), `n=${n} i=${i}`).toBe(true);
      }
    }
  });

  it('follow RFC 9162 PATH(m, D[n]): sibling sides and order from the leaf up', () => {
    // n = 7: D[0:4] | D[4:7] → D[4:6] | D[6]; leaf 5 has siblings d4 (left), d6 (right), MTH(D[0:4]) (left).
    const leaves = randomBytes(7 * 32);
    const h = split(leaves);
    const proof = inclusionProof(leaves, 5, 7);
    expect(proof.path).toEqual([
      { side: 'left', hash: (h[4] as Buffer).toString('hex') },
      { side: 'right', hash: (h[6] as Buffer).toString('hex') },
      { side: 'left', hash: referenceRoot(h.slice(0, 4)).toString('hex') },
    ]);
    // The last leaf of 7 is promoted past one level: only two siblings.
    expect(inclusionProof(leaves, 6, 7).path.map((s) => s.side)).toEqual(['left', 'left']);
  });

  it('inclusionProofs batches proofs (duplicates included) over a prefix of the leaf array', () => {
    const leaves = randomBytes(100 * 32);
    const indices = [63, 0, 70, 63, 69];
    const batch = inclusionProofs(leaves, indices, 71);
    expect(batch.map((p) => p.leaf_index)).toEqual(indices);
    for (const [j, p] of batch.entries()) {
      expect(p).toEqual(inclusionProof(leaves, indices[j] as number, 71));
      expect(p.root_hash).toBe(merkleRoot(leaves, 0, 71).toString('hex'));
      expect(verifyInclusion(p)).toBe(true);
    }
    expect(() => inclusionProofs(leaves, [71], 71)).toThrow(MerkleInputError);
    expect(() => inclusionProofs(leaves, [0], 101)).toThrow(MerkleInputError);
  });

  it('fail when any byte of a hash, any side or the leaf index is changed', () => {
    for (let n = 1; n <= 40; n++) {
      const leaves = randomBytes(n * 32);
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(leaves, i, n);
        const variants: InclusionProof[] = [];
        // One byte of each hash: the two hex digits of byte b are positions 2b, 2b+1.
        for (let b = 0; b < 32; b++) {
          variants.push({ ...proof, leaf_hash: flipHex(proof.leaf_hash, 2 * b) });
          variants.push({ ...proof, root_hash: flipHex(proof.root_hash, 2 * b + 1) });
        }
        proof.path.forEach((step, s) => {
          const withStep = (changed: InclusionProof['path'][number]) => proof.path.map((x, t) => (t === s ? changed : x));
          variants.push({ ...proof, path: withStep({ side: step.side === 'left' ? 'right' : 'left', hash: step.hash }) });
          for (const b of [0, 13, 31]) variants.push({ ...proof, path: withStep({ side: step.side, hash: flipHex(step.hash, 2 * b) }) });
        });
        for (let j = 0; j < n; j++) if (j !== i) variants.push({ ...proof, leaf_index: j });
        // (tree_size is not in this list: a proof is only bound to the size through
        // its shape, so e.g. leaf 0 has the same path in trees of 3 and 4 leaves.)
        if (proof.path.length > 0) variants.push({ ...proof, path: proof.path.slice(1) });
        variants.push({ ...proof, path: [...proof.path, { side: 'left', hash: proof.root_hash }] });
        for (const v of variants) expect(verifyInclusion(v), `n=${n} i=${i} ${JSON.stringify(v)}`).toBe(false);
      }
    }
  });

  it('return false, never throw, on garbage', () => {
    const good = inclusionProof(randomBytes(5 * 32), 2, 5);
    const garbage: unknown[] = [
      null,
      undefined,
      42,
      'proof',
      [],
      {},
      { ...good, leaf_index: -1 },
      { ...good, leaf_index: 2.5 },
      { ...good, leaf_index: '2' },
      { ...good, tree_size: 0 },
      { ...good, tree_size: Number.MAX_SAFE_INTEGER + 2 },
      { ...good, leaf_hash: 'zz' },
      { ...good, root_hash: undefined },
      { ...good, path: 'nope' },
      { ...good, path: [null, null] },
      { ...good, path: good.path.map((s) => ({ ...s, hash: s.hash.slice(2) })) },
      { ...good, path: good.path.map((s) => ({ ...s, side: 'up' })) },
      { ...good, path: Array.from({ length: 10_000 }, () => good.path[0]) },
    ];
    for (const g of garbage) expect(verifyInclusion(g)).toBe(false);
    expect(verifyInclusion({ ...good, leaf_hash: good.leaf_hash.toUpperCase() })).toBe(true);
  });
});
