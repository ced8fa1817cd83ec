/**
 * Read-only questions about a plan's shards, answered from its checkpoints
 * through its leaf layout (for the API): a page of shards in leaf order, and
 * the inclusion proof of one shard by cas_id.
 */
import type { WorkerPool } from '../kernel/worker-pool.ts';
import { Phase, decodeCheckpoint, failureOf, type CheckpointDb } from './checkpoints/checkpoint-records.ts';
import type { LeafLayout } from './checkpoints/leaf-layout.ts';
import { BlockedTree } from './certify/merkle-task.ts';
import type { SampleProof } from './certify/verify-report.ts';
import { forEachCheckpoint, refCheckpoint } from './checkpoints/plan-checkpoints.ts';
import type { ResolvedPlan } from './plan/plan.ts';

export type ShardPhase = 'pending' | 'done' | 'failed';

export interface ShardRow {
  leaf_index: number;
  stage_id: string;
  shard_index: number;
  sub_shard?: number;
  phase: ShardPhase;
  cas_id: string | null;
  attempts: number;
  ms: number;
  output_digest?: string;
  reused?: boolean;
  error?: string;
}

export interface ShardPage {
  items: ShardRow[];
  /** The leaf to go on from, or null at the end. */
  next_cursor: string | null;
}

/** Leaves looked at per page, at most, whatever the filter (a page may come back short, with a cursor). */
const SCAN_LIMIT = 100_000;

export function shardPage(
  db: CheckpointDb,
  planId: string,
  plan: ResolvedPlan,
  layout: LeafLayout,
  q: { phase?: ShardPhase; cursor: number; limit: number },
): ShardPage {
  const items: ShardRow[] = [];
  let leaf = q.cursor;
  for (const end = Math.min(layout.total, q.cursor + SCAN_LIMIT); leaf < end && items.length < q.limit; leaf++) {
    const ref = layout.locate(leaf);
    const stored = refCheckpoint(db, planId, ref);
    const cp = stored ? decodeCheckpoint(stored) : undefined;
    const phase: ShardPhase = !cp ? 'pending' : cp.p === Phase.Done ? 'done' : 'failed';
    if (q.phase && phase !== q.phase) continue;
    items.push({
      leaf_index: leaf,
      stage_id: (plan.stages[ref.stage] as ResolvedPlan['stages'][number]).id,
      shard_index: ref.shard,
      ...(ref.sub ? { sub_shard: ref.sub.index } : {}),
      phase,
      cas_id: cp ? cp.c : null,
      attempts: cp?.a ?? 0,
      ms: cp?.ms ?? 0,
      ...(cp?.d ? { output_digest: Buffer.from(cp.d).toString('hex') } : {}),
      ...(cp?.r ? { reused: true } : {}),
      ...(cp?.p === Phase.Failed ? failureOf(cp) : {}),
    });
  }
  return { items, next_cursor: leaf < layout.total ? String(leaf) : null };
}

/**
 * The inclusion proof of the shard with this cas_id (the seed's shape, with
 * its output digest: a report's sample proof), against the root of the
 * plan's stored leaves; undefined when no done shard has it.
 */
export async function proofOf(db: CheckpointDb, pool: WorkerPool, planId: string, plan: ResolvedPlan, layout: LeafLayout, casId: string): Promise<SampleProof | undefined> {
  const leaves = new SharedArrayBuffer(layout.total * 32);
  const view = new Uint8Array(leaves);
  let index = -1;
  let digest = '';
  forEachCheckpoint(db, planId, plan, layout, (stage, shard, number, value) => {
    const cp = decodeCheckpoint(value);
    if (cp.p !== Phase.Done || !cp.l) return;
    const leaf = number === undefined ? layout.leafOf(stage, shard) : layout.leafOfNumber(stage, number);
    view.set(cp.l, leaf * 32);
    if (cp.c === casId) [index, digest] = [leaf, Buffer.from(cp.d as Uint8Array).toString('hex')];
  });
  if (index < 0) return undefined;
  const tree = await BlockedTree.build(pool, leaves, layout.total);
  return { ...tree.proof(index), leaf_cas_id: casId, output_digest: digest };
}
