/**
 * What a plan's shards produced (`GET /api/hxo/outputs/{id}`, `xyn outputs`),
 * read from their checkpoints through the plan's leaf layout, in leaf order:
 * for each done shard its place (stage, shard, sub-shard, leaf), its cas_id,
 * its output (as JSON: output-json.ts) and its output_digest — so a client
 * can check each output against the plan's proofs: output_digest =
 * sha256(canonical msgpack of the output), leaf = sha256(0x00 ‖ cas_id ‖
 * output_digest).
 *
 * A page is read in one go (one short read transaction), walking each
 * stage's checkpoints in shard order (plan-checkpoints.ts): pending shards
 * have none, so they cost nothing to skip. A caller that streams a million
 * outputs asks for the next page only when it has room for it: memory stays
 * one page.
 */
import { ValidationError } from '../core/errors.ts';
import { decode } from '../core/codec.ts';
import { Phase, decodeCheckpoint, type Checkpoint, type CheckpointDb } from './checkpoints/checkpoint-records.ts';
import type { LeafLayout, SplitRecord } from './checkpoints/leaf-layout.ts';
import { refCheckpoint, stageCheckpointsFrom } from './checkpoints/plan-checkpoints.ts';
import type { ResolvedPlan } from './plan/plan.ts';
import { toOutputJson } from './executors/output-json.ts';

export interface OutputRow {
  stage_id: string;
  shard_index: number;
  /** Which of a split shard's sub-shards. */
  sub_shard?: number;
  leaf_index: number;
  cas_id: string;
  output: unknown;
  output_digest: string;
}

export interface OutputPage {
  items: OutputRow[];
  /** The leaf to go on from, or null when no done shard is left after this page. */
  next_cursor: string | null;
}

export interface OutputQuery {
  /** Only this stage's shards (its id). */
  stage?: string;
  /** The first leaf to look at. */
  cursor: number;
  limit: number;
}

/** The index of the plan's stage with this id; a ValidationError naming it otherwise. */
export function stageIndexOf(plan: ResolvedPlan, stageId: string): number {
  const stage = plan.stages.find((s) => s.id === stageId);
  if (!stage) throw new ValidationError(`plan ${plan.name} has no stage "${stageId}"; its stages: ${plan.stages.map((s) => s.id).join(', ')}`, 'stage');
  return stage.index;
}

export function outputPage(db: CheckpointDb, planId: string, plan: ResolvedPlan, layout: LeafLayout, q: OutputQuery): OutputPage {
  let from = q.cursor;
  let end = layout.total;
  if (q.stage !== undefined) {
    const stage = stageIndexOf(plan, q.stage);
    const first = layout.leafOf(stage, 0);
    from = Math.max(from, first);
    end = first + layout.stageTotal(stage);
  }
  const items: OutputRow[] = [];
  const done = doneShards(db, planId, plan, layout, from, end);
  try {
    for (let next = done.next(); !next.done; next = done.next()) {
      const shard = next.value;
      // One past the page: only where the next page begins is wanted.
      if (items.length === q.limit) return { items, next_cursor: String(shard.leaf) };
      items.push(outputRow(plan, shard));
    }
  } finally {
    done.return(undefined);
  }
  return { items, next_cursor: null };
}

/** Pages of outputs from `cursor` on, each read when it is asked for. */
export function* outputPages(read: (cursor: number) => OutputPage, cursor: number): Generator<OutputPage> {
  for (let at: number | null = cursor; at !== null; ) {
    const page = read(at);
    if (page.items.length > 0) yield page;
    at = page.next_cursor === null ? null : Number(page.next_cursor);
  }
}

interface DoneShard {
  leaf: number;
  stage: number;
  shard: number;
  sub?: number;
  /** Valid until the walk moves on. */
  checkpoint: Checkpoint;
}

/** The done shards with leaves in [from, end), in leaf order. */
function* doneShards(db: CheckpointDb, planId: string, plan: ResolvedPlan, layout: LeafLayout, from: number, end: number): Generator<DoneShard> {
  if (from >= end) return;
  const start = layout.locate(from);
  const splits = layout.records();
  for (let stage = start.stage; stage < plan.stages.length; stage++) {
    const count = (plan.stages[stage] as ResolvedPlan['stages'][number]).shardCount;
    const firstShard = stage === start.stage ? start.shard : 0;
    const firstSub = stage === start.stage ? (start.sub?.index ?? 0) : 0;
    // This stage's splits from the first shard on, in shard order: their sub-shards take their place.
    const pending = splits.filter((r) => r.stage === stage && r.shard >= firstShard);
    let k = 0;
    const subShards = function* (r: SplitRecord): Generator<DoneShard> {
      for (let sub = r.shard === firstShard ? firstSub : 0; sub < r.parts; sub++) {
        const stored = refCheckpoint(db, planId, { stage, shard: r.shard, sub: { index: sub, number: r.first + sub } });
        const checkpoint = stored ? decodeCheckpoint(stored) : undefined;
        if (checkpoint?.p === Phase.Done) yield { leaf: layout.leafOf(stage, r.shard, sub), stage, shard: r.shard, sub, checkpoint };
      }
    };
    for (const { shard, checkpoint: value } of stageCheckpointsFrom(db, planId, stage, firstShard)) {
      if (shard >= count) break;
      for (; k < pending.length && (pending[k] as SplitRecord).shard <= shard; k++) yield* subShards(pending[k] as SplitRecord);
      // A split shard's own checkpoint (a batch that ended just as it was split) is no leaf.
      if (layout.split(stage, shard)) continue;
      const leaf = layout.leafOf(stage, shard);
      if (leaf >= end) return;
      const checkpoint = decodeCheckpoint(value);
      if (checkpoint.p === Phase.Done) yield { leaf, stage, shard, checkpoint };
    }
    for (; k < pending.length; k++) yield* subShards(pending[k] as SplitRecord);
    if (layout.leafOf(stage, 0) + layout.stageTotal(stage) >= end) return;
  }
}

function outputRow(plan: ResolvedPlan, s: DoneShard): OutputRow {
  const cp = s.checkpoint;
  return {
    stage_id: (plan.stages[s.stage] as ResolvedPlan['stages'][number]).id,
    shard_index: s.shard,
    ...(s.sub !== undefined ? { sub_shard: s.sub } : {}),
    leaf_index: s.leaf,
    cas_id: cp.c,
    output: toOutputJson(decode(cp.o as Uint8Array)),
    output_digest: Buffer.from(cp.d as Uint8Array).toString('hex'),
  };
}
