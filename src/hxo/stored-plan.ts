/**
 * A plan read from a data dir without a node (`xyn outputs --data`,
 * `xyn run --resume`, `xyn resume` before anything starts): its record, and
 * on demand the plan prepared again from it with its leaf layout (the splits
 * journaled for its digest) — what the plan queries need.
 */
import type { Store } from '../store/env.ts';
import { checkCheckpointFormat, checkpointDb } from './checkpoints/checkpoint-records.ts';
import { PLANS_DB } from './checkpoints/plan-records.ts';
import { PlanCollectedError, PlanNotFoundError } from './engine-errors.ts';
import { preparePlan } from './plan/prepare-plan.ts';
import type { PlanRecord } from './checkpoints/plan-records.ts';
import type { JobKindRegistry } from './plan/job-kinds.ts';
import { LeafLayout } from './checkpoints/leaf-layout.ts';
import { outputPage, outputPages, stageIndexOf, type OutputPage } from './plan-outputs.ts';
import type { Limits } from './plan/plan.ts';
import { SplitJournal } from './checkpoints/split-journal.ts';

/** A plan's record, or undefined. */
export function storedRecord(store: Store, planId: string): PlanRecord | undefined {
  return store.db<string, PlanRecord>(PLANS_DB).get(planId);
}

/**
 * Every output of a stored plan from leaf `cursor` on (one stage's, if
 * asked), a page at a time. The plan is prepared again from its record
 * (its job-kind modules loaded into `registry`); an unknown plan or stage
 * throws here.
 */
export async function storedOutputPages(
  store: Store,
  planId: string,
  registry: JobKindRegistry,
  limits: Limits,
  q: { stage?: string; cursor: number; pageSize?: number },
): Promise<Iterable<OutputPage>> {
  const record = storedRecord(store, planId);
  if (!record) throw new PlanNotFoundError(planId);
  if (record.collecting || record.collected_at) throw new PlanCollectedError(planId, record.collected_at);
  checkCheckpointFormat(store);
  const plan = await preparePlan(record.source, registry, limits, record.base_dir);
  if (q.stage !== undefined) stageIndexOf(plan, q.stage);
  const layout = new LeafLayout(
    plan.stages.map((s) => s.shardCount),
    new SplitJournal(store).load(plan.digest),
  );
  const checkpoints = checkpointDb(store);
  const query = { ...(q.stage !== undefined ? { stage: q.stage } : {}), limit: q.pageSize ?? 1000 };
  return outputPages((cursor) => outputPage(checkpoints, planId, plan, layout, { ...query, cursor }), q.cursor);
}
