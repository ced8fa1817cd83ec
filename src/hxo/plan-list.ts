/**
 * The plans of a data dir, one summary each (`GET /api/hxo/plans`,
 * `xyn plans`): id, name, state, shard counts, when it was made and when it
 * ended — enough to find the plan to resume, report or replay without
 * reading the event log.
 *
 * An ended plan's counts are its report's. A plan with neither a report nor
 * a run here is `unfinished`: the process running it stopped before the end
 * (`xyn resume ID` continues it), or it runs in another process. Its counts
 * are read from its checkpoints (one pass over its keys).
 */
import type { Store } from '../store/env.ts';
import { checkCheckpointFormat, checkpointDb, type CheckpointDb } from './checkpoints/checkpoint-records.ts';
import { PLANS_DB } from './checkpoints/plan-records.ts';
import { countCheckpoints } from './checkpoints/plan-checkpoints.ts';
import type { PlanRecord } from './checkpoints/plan-records.ts';
import type { PlanRun, PlanState } from './run/plan-run.ts';
import { liveState } from './report.ts';
import { SplitJournal } from './checkpoints/split-journal.ts';

export type PlanListState = PlanState | 'unfinished';

export interface PlanSummary {
  plan_id: string;
  plan_name: string;
  state: PlanListState;
  /** null for an unfinished plan recorded before plans kept their shard count. */
  total_shards: number | null;
  done_shards: number;
  failed_shards: number;
  created_at: string;
  finished_at: string | null;
}

/** A plan with no live run: from its report, else (unfinished) from its checkpoints. */
export function storedSummary(record: PlanRecord, checkpoints: CheckpointDb, splits: SplitJournal): PlanSummary {
  const { plan_id, plan_name, created_at } = record;
  const report = record.report;
  if (report) {
    const { state, total_shards, done_shards, failed_shards, finished_at } = report;
    return { plan_id, plan_name, state, total_shards, done_shards, failed_shards, created_at, finished_at };
  }
  const { total, done, failed } = unfinishedCounts(record, checkpoints, splits);
  return { plan_id, plan_name, state: 'unfinished', total_shards: total, done_shards: done, failed_shards: failed, created_at, finished_at: null };
}

/** The shard counts of a plan that has not ended, from its checkpoints; total null for one recorded before plans kept it. */
export function unfinishedCounts(record: PlanRecord, checkpoints: CheckpointDb, splits: SplitJournal): { total: number | null; done: number; failed: number; reused: number } {
  const counts = countCheckpoints(checkpoints, record.plan_id);
  // A split shard is replaced by its sub-shards: the plan has (parts - 1) more leaves per split.
  const extra = record.total_shards === undefined ? 0 : splits.load(record.digest).reduce((n, r) => n + r.parts - 1, 0);
  return { ...counts, total: record.total_shards === undefined ? null : record.total_shards + extra };
}

/** A plan running here, its counts as they are now. */
export function liveSummary(record: PlanRecord, run: PlanRun): PlanSummary {
  const c = run.counts;
  return {
    plan_id: record.plan_id,
    plan_name: record.plan_name,
    state: liveState(run),
    total_shards: c.total,
    done_shards: c.done,
    failed_shards: c.failed,
    created_at: record.created_at,
    finished_at: null,
  };
}

/** Newest first (then by plan id, so equal times keep one order). */
export function newestFirst(a: PlanSummary, b: PlanSummary): number {
  return b.created_at.localeCompare(a.created_at) || a.plan_id.localeCompare(b.plan_id);
}

/** Every plan of a data dir's store, newest first, read without a node (`xyn plans --data`). */
export function storedPlans(store: Store): PlanSummary[] {
  checkCheckpointFormat(store);
  const plans = store.db<string, PlanRecord>(PLANS_DB);
  const checkpoints = checkpointDb(store);
  const splits = new SplitJournal(store);
  return [...plans.getRange({})].map(({ value }) => storedSummary(value, checkpoints, splits)).sort(newestFirst);
}
