/**
 * A plan's record in the `plans` database (plan_id → PlanRecord): what was
 * submitted, its state, and once it ended its report. Read by the engine and,
 * without one, by the CLI's data-dir commands (a light module: no engine).
 */
import type { Database } from 'lmdb';
import type { PlanInput } from '../plan/plan.ts';
import type { PlanReport } from '../report.ts';
import { PlanNotEndedError, PlanNotFoundError } from '../engine-errors.ts';

export const PLANS_DB = 'plans';

export interface PlanRecord {
  plan_id: string;
  plan_name: string;
  digest: string;
  source: PlanInput;
  base_dir: string;
  state: PlanReport['state'];
  submitted_by: string;
  created_at: string;
  /** Shards before any split (absent in records made before it was kept). */
  total_shards?: number;
  report?: PlanReport;
  /** Retention is collecting its checkpoints (retention.ts). */
  collecting?: true;
  /** When retention collected its checkpoints, outputs and artifacts: the report stays. */
  collected_at?: string;
}

export function storedReport(plans: Database<PlanRecord, string>, planId: string): PlanReport {
  const record = plans.get(planId);
  if (!record) throw new PlanNotFoundError(planId);
  if (!record.report) throw new PlanNotEndedError(planId, 'no report yet (it is unfinished)');
  return record.report;
}

/** A report of a plan with nothing counted yet (state `running`: the caller says otherwise). */
export function emptyReport(record: PlanRecord): PlanReport {
  return {
    plan_id: record.plan_id,
    plan_name: record.plan_name,
    state: 'running',
    stages: [],
    total_shards: 0,
    done_shards: 0,
    failed_shards: 0,
    reused_shards: 0,
    merkle_root: null,
    truth_certified: false,
    certificate: null,
    sample_proofs: [],
    failed: [],
    timings: { partition_ms: 0, execute_ms: 0, merkle_ms: 0, certify_ms: 0, total_ms: 0 },
    started_at: record.created_at,
    finished_at: null,
  };
}

