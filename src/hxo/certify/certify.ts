/**
 * Certification of a finished plan (seed 000 flow 3).
 *
 * The root is computed from the leaves on the pool threads; then at least 16
 * leaves (all when fewer), chosen from the root so the choice is reproducible,
 * are checked against what is *stored*: each sampled shard's output bytes are
 * re-hashed into its output_digest and leaf, which must equal the leaf the
 * root was built from, and its inclusion proof must verify. Only then is the
 * certificate signed: `hxo.aggregate.ready` → `.certify` → `.finalized`, or
 * `.failed` with the reason.
 */
import { hash } from 'node:crypto';
import type { Bus } from '../../kernel/bus.ts';
import type { WorkerPool } from '../../kernel/worker-pool.ts';
import { BlockedTree } from './merkle-task.ts';
import { leafHashInto, verifyInclusion } from './merkle.ts';
import { sha256 } from '../../kernel/sha256.ts';
import { issueCertificate, type Certificate } from './certificate.ts';
import type { NodeKey } from './signing.ts';
import { Phase, decodeCheckpoint, type Checkpoint, type CheckpointDb } from '../checkpoints/checkpoint-records.ts';
import type { PlanRun } from '../run/plan-run.ts';
import type { ResolvedPlan } from '../plan/plan.ts';
import type { LeafLayout } from '../checkpoints/leaf-layout.ts';
import { forEachCheckpoint, leafCheckpoint } from '../checkpoints/plan-checkpoints.ts';
import type { SampleProof } from './verify-report.ts';

export type CertifyOutcome = { merkle_root: string; sample_proofs: SampleProof[]; merkle_ms: number } & (
  | { certified: true; certificate: Certificate }
  | { certified: false; reason: string; bad_leaves: number[] }
);

const MIN_SAMPLES = 16;

/** At least 16 distinct leaf indices (all when fewer), derived from the root. */
export function sampleIndices(root: string, n: number): number[] {
  if (n <= MIN_SAMPLES) return [...Array(n).keys()];
  const picked = new Set<number>();
  for (let k = 0; picked.size < MIN_SAMPLES; k++) {
    const h = hash('sha256', `${root}:${k}`, 'buffer');
    picked.add(Number(h.readBigUInt64BE(0) % BigInt(n)));
  }
  return [...picked].sort((a, b) => a - b);
}

/** Certifies a run whose shards have all ended; `leaves` are its leaves in its layout (`run.leaves`). */
export async function certifyPlan(run: PlanRun, leaves: SharedArrayBuffer, pool: WorkerPool, bus: Bus, key: NodeKey, checkpoints: CheckpointDb): Promise<CertifyOutcome> {
  const n = run.layout.total;
  const planId = run.planId;
  const m0 = performance.now();
  const tree = await BlockedTree.build(pool, leaves, n);
  const root = tree.root().toString('hex');
  const merkleMs = performance.now() - m0;
  await bus.publish('hxo.aggregate.ready', { plan_id: planId, merkle_root: root, total_shards: n }, run.eventMeta);

  const sample = sampleIndices(root, n);
  const proofs = sample.map((index) => tree.proof(index, root));
  const bad: number[] = [];
  const sampleProofs: SampleProof[] = proofs.map((proof, s) => {
    const index = sample[s] as number;
    const stored = leafCheckpoint(checkpoints, planId, run.layout, index);
    const cp = stored ? decodeCheckpoint(stored) : undefined;
    // Recompute from what is stored, not from what the run remembers.
    const now = cp ? storedLeaf(cp) : undefined;
    if (!now || now.leaf.toString('hex') !== proof.leaf_hash || !verifyInclusion(proof)) bad.push(index);
    return { ...proof, leaf_cas_id: cp?.c ?? '', output_digest: now?.digest.toString('hex') ?? '' };
  });
  await bus.publish('hxo.aggregate.certify', { plan_id: planId, merkle_root: root, sample_proofs: sampleProofs }, run.eventMeta);

  if (bad.length > 0) {
    const reason = `proof verification failed for ${bad.length} sampled leaves (first: ${bad[0]}): a stored output no longer matches its leaf`;
    await bus.publish('hxo.aggregate.failed', { plan_id: planId, merkle_root: root, reason }, run.eventMeta);
    return { certified: false, merkle_root: root, reason, bad_leaves: bad, sample_proofs: sampleProofs, merkle_ms: merkleMs };
  }
  const certificate = issueCertificate(key, { planId, merkleRoot: root, totalShards: n });
  await bus.publish('hxo.aggregate.finalized', { plan_id: planId, certificate, timestamp: certificate.timestamp }, run.eventMeta);
  return { certified: true, merkle_root: root, certificate, sample_proofs: sampleProofs, merkle_ms: merkleMs };
}

/**
 * Every leaf whose stored output no longer gives the leaf the root was built
 * from (seed 000 flow 3, step 9): the leaves are recomputed from what is
 * stored, and the two trees are bisected. `leaves` are those the root was
 * built from; without them, the leaves the checkpoints recorded (read in the
 * same pass).
 */
export async function findBadLeaves(planId: string, plan: ResolvedPlan, layout: LeafLayout, pool: WorkerPool, checkpoints: CheckpointDb, leaves?: SharedArrayBuffer): Promise<number[]> {
  const n = layout.total;
  const built = leaves ?? new SharedArrayBuffer(n * 32);
  const recorded = leaves ? undefined : new Uint8Array(built);
  const recomputed = new SharedArrayBuffer(n * 32);
  const view = new Uint8Array(recomputed);
  forEachCheckpoint(checkpoints, planId, plan, layout, (stage, shard, number, value) => {
    const leaf = number === undefined ? layout.leafOf(stage, shard) : layout.leafOfNumber(stage, number);
    const cp = decodeCheckpoint(value);
    const now = storedLeaf(cp);
    if (now) view.set(now.leaf, leaf * 32);
    if (recorded && cp.l) recorded.set(cp.l, leaf * 32);
  });
  const [a, b] = await Promise.all([BlockedTree.build(pool, built, n), BlockedTree.build(pool, recomputed, n)]);
  return a.differences(b);
}

/** The output digest and leaf a done checkpoint gives now, recomputed from its stored output. */
function storedLeaf(cp: Checkpoint): { digest: Buffer; leaf: Buffer } | undefined {
  if (cp.p !== Phase.Done || !cp.o) return undefined;
  const digest = sha256(cp.o);
  const leaf = Buffer.allocUnsafe(32);
  leafHashInto(cp.c, digest, leaf, 0);
  return { digest, leaf };
}
