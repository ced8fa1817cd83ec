/**
 * Whether a plan can be resumed (`xyn resume`, `POST /api/hxo/resume/{id}`),
 * from its record: resume continues an aborted plan, or an unfinished one (no
 * report: the process running it stopped), from its checkpoints. A running
 * plan is left alone, a certified one has nothing left to do, and a failed
 * one (unless its actor kept crashing) ended with shards that failed for good (or a certification that did
 * not hold): running the rest again would not change that, replaying does.
 * A plan whose checkpoints retention collected has nothing to continue from.
 *
 * And whether it is still the same plan: prepared again from its record, its
 * digest must be the one it started with; if its code or inputs changed, its
 * checkpoints are not outputs of it.
 */
import { PlanChangedError, PlanCollectedError, PlanNotResumableError } from '../engine-errors.ts';
import type { PlanRecord } from './plan-records.ts';
import type { ResolvedPlan } from '../plan/plan.ts';

export function checkResumable(record: PlanRecord, running: boolean): void {
  const id = record.plan_id;
  if (running) throw new PlanNotResumableError(id, 'running', 'it is running');
  // Retention took its checkpoints: there is nothing left to continue from.
  if (record.collecting || record.collected_at) throw new PlanCollectedError(id, record.collected_at);
  const report = record.report;
  // A plan whose actor kept crashing failed for no shard's sake: once the cause is fixed, it goes on from its checkpoints.
  if (!report || report.state === 'aborted' || report.crashes) return;
  if (report.truth_certified) throw new PlanNotResumableError(id, report.state, `it is already certified (root ${report.merkle_root ?? '?'}): nothing is left to run`);
  if (report.failed_shards > 0) {
    throw new PlanNotResumableError(id, report.state, `it failed: ${report.failed_shards} shard(s) failed for good; run them again with \`xyn replay ${id} --failed\``);
  }
  throw new PlanNotResumableError(id, report.state, `it failed (${report.reason ?? 'not certified'}); check and repair it with \`xyn replay ${id}\``);
}

export function checkUnchanged(record: PlanRecord, plan: ResolvedPlan): void {
  if (plan.digest !== record.digest) throw new PlanChangedError(record.plan_id, record.digest, plan.digest);
}
