/**
 * How a run of a plan ends up as its report: uncertified when it was
 * aborted, failed or has shards that failed for good; otherwise certified
 * (certify.ts) — or, when stored outputs no longer match their leaves, not,
 * with those leaves found by bisection so the plan actor can replay them.
 *
 *   const { report, badLeaves } = await concludeRun(deps, run, startedAt, t, replayed);
 */
import type { Kernel } from '../../kernel/kernel.ts';
import type { PlanRun } from '../run/plan-run.ts';
import { certifyPlan, findBadLeaves } from './certify.ts';
import type { NodeKey } from './signing.ts';
import { splitSummaries, stageStats, type PlanReport, type ReplayedShard } from '../report.ts';
import type { CheckpointDb } from '../checkpoints/checkpoint-records.ts';

/** When a run started and how long partitioning and executing took (performance.now() ms). */
export interface RunTimes {
  partitionMs: number;
  executeMs: number;
  t0: number;
}

export interface ConclusionDeps {
  kernel: Kernel;
  checkpoints: CheckpointDb;
  /** The node's signing key (loaded when the first plan is certified). */
  key(): NodeKey;
}

/**
 * The report of a run that ended; when certification found stored outputs
 * that no longer match their leaves, also every such leaf (by bisection).
 * The run's own state is left as it was: status shows an ended state only
 * with the stored report.
 */
export async function concludeRun(deps: ConclusionDeps, run: PlanRun, startedAt: Date, t: RunTimes, replayed: ReplayedShard[]): Promise<{ report: PlanReport; badLeaves: number[] }> {
  const { kernel, checkpoints } = deps;
  const c = run.counts;
  if (run.state === 'aborted' || run.state === 'failed' || c.failed > 0) {
    const state = run.state === 'running' ? 'failed' : run.state;
    if (run.state === 'running') {
      await kernel.bus.publish('hxo.alert', { plan_id: run.planId, alert_type: 'shards_failed', severity: 'error', message: `${c.failed} shards failed for good; the plan is not certified` }, run.eventMeta);
    }
    return { report: uncertifiedReport(run, startedAt, t, replayed, state, run.abortReason ? { reason: run.abortReason } : {}), badLeaves: [] };
  }
  run.send({ type: 'certify' });
  const m0 = performance.now();
  const leaves = run.leaves;
  const outcome = await certifyPlan(run, leaves, kernel.pool, kernel.bus, deps.key(), checkpoints);
  const certifyMs = performance.now() - m0;
  const badLeaves = !outcome.certified && outcome.bad_leaves.length > 0 ? await findBadLeaves(run.planId, run.plan, run.layout, kernel.pool, checkpoints, leaves) : [];
  const report: PlanReport = {
    ...reportBase(run, startedAt, replayed),
    state: outcome.certified ? 'certified' : 'failed',
    merkle_root: outcome.merkle_root,
    truth_certified: outcome.certified,
    certificate: outcome.certified ? outcome.certificate : null,
    sample_proofs: outcome.sample_proofs,
    ...(outcome.certified ? {} : { reason: outcome.reason }),
    timings: timingsOf(t, outcome.merkle_ms, certifyMs - outcome.merkle_ms),
    finished_at: new Date().toISOString(),
  };
  return { report, badLeaves };
}

/** The report of a plan whose actor kept crashing: failed, uncertified, with the reason and how many times it crashed. */
export function crashedReport(run: PlanRun, startedAt: Date, t: RunTimes, replayed: ReplayedShard[], reason: string, crashes: number): PlanReport {
  return uncertifiedReport(run, startedAt, t, replayed, 'failed', { reason, crashes });
}

/** A report with no root, certificate or proofs: the plan ended aborted or failed before certification. */
function uncertifiedReport(run: PlanRun, startedAt: Date, t: RunTimes, replayed: ReplayedShard[], state: PlanReport['state'], why: Pick<PlanReport, 'reason' | 'crashes'>): PlanReport {
  return {
    ...reportBase(run, startedAt, replayed),
    state,
    merkle_root: null,
    truth_certified: false,
    certificate: null,
    sample_proofs: [],
    ...why,
    timings: timingsOf(t, 0, 0),
    finished_at: new Date().toISOString(),
  };
}

/** What every report of a run says, however it ended: its plan, shard counts, failures, splits, replays. */
function reportBase(run: PlanRun, startedAt: Date, replayed: ReplayedShard[]) {
  const c = run.counts;
  return {
    plan_id: run.planId,
    plan_name: run.plan.name,
    stages: stageStats(run),
    total_shards: c.total,
    done_shards: c.done,
    failed_shards: c.failed,
    reused_shards: c.reused,
    failed: run.failed,
    ...(run.layout.hasSplits ? { splits: splitSummaries(run) } : {}),
    ...(replayed.length > 0 ? { replayed: [...replayed] } : {}),
    started_at: startedAt.toISOString(),
  };
}

function timingsOf(t: RunTimes, merkleMs: number, certifyMs: number): PlanReport['timings'] {
  return {
    partition_ms: round(t.partitionMs),
    execute_ms: round(t.executeMs),
    merkle_ms: round(merkleMs),
    certify_ms: round(certifyMs),
    total_ms: round(performance.now() - t.t0),
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
