/**
 * The plan report (DESIGN.md §3, issue contract) and the status response
 * (seed 001 "Status Response"), built from a plan run or its stored record.
 */
import type { Certificate } from './certify/certificate.ts';
import type { SampleProof } from './certify/verify-report.ts';
import type { PlanRun, PlanState } from './run/plan-run.ts';
import type { FailedShard } from './checkpoints/plan-checkpoints.ts';

export interface StageStats {
  stage_id: string;
  kind: string;
  /** What its outputs were computed (or reused) under: the executor's identity. */
  executor_identity: string;
  /** The plan whose outputs this stage looked up for reuse (memo.ts); null when none ran before it with the same code and config, or memo was off. */
  memo_source: string | null;
  total_shards: number;
  done_shards: number;
  failed_shards: number;
  reused_shards: number;
  slo_ms: number;
  duration_ms: number;
  slo_met: boolean;
  p50_ms: number;
  p95_ms: number;
}

export interface Timings {
  partition_ms: number;
  execute_ms: number;
  merkle_ms: number;
  certify_ms: number;
  total_ms: number;
}

export interface ReplayedShard {
  leaf_index: number;
  stage_id: string;
  shard_index: number;
  /** Which of the split shard's sub-shards. */
  sub_shard?: number;
  cas_id: string;
}

/** A shard auto-tuning split: replaced in place by `sub_shards` leaves from `first_leaf`. */
export interface SplitSummary {
  stage_id: string;
  shard_index: number;
  split_factor: number;
  sub_shards: number;
  first_leaf: number;
}

export interface PlanReport {
  plan_id: string;
  plan_name: string;
  state: PlanState;
  stages: StageStats[];
  total_shards: number;
  done_shards: number;
  failed_shards: number;
  reused_shards: number;
  merkle_root: string | null;
  truth_certified: boolean;
  certificate: Certificate | null;
  sample_proofs: SampleProof[];
  failed: FailedShard[];
  /** Shards split by auto-tuning (journaled: the plan keeps this layout when run again). */
  splits?: SplitSummary[];
  /** Shards replayed because their stored output no longer matched their leaf (found by bisection). */
  replayed?: ReplayedShard[];
  reason?: string;
  /** Set when the plan ended failed because its actor kept crashing (plan-actor.ts): how many times it crashed. Its checkpoints stand, and `xyn resume` goes on from them. */
  crashes?: number;
  timings: Timings;
  started_at: string;
  finished_at: string | null;
}

export interface PlanStatus {
  plan_id: string;
  plan_name: string;
  /** `unfinished`: not running, and no report: the process running it stopped (stored-status.ts). */
  state: PlanState | 'unfinished';
  total_shards: number;
  pending_shards: number;
  claimed_shards: number;
  running_shards: number;
  done_shards: number;
  failed_shards: number;
  reused_shards: number;
  merkle_root: string | null;
  truth_certified: boolean;
  started_at: string;
  finished_at: string | null;
  eta_seconds: number | null;
  shards_per_second: number;
  /** Set while the plan claims no shards because its store is full: why. */
  paused?: string;
  /** A running plan's stages as they are now (an ended plan's are in its report). */
  stages?: StageStats[];
}

export function stageStats(run: PlanRun): StageStats[] {
  return run.stages.map((s, i) => {
    const slo = run.plan.stages[i]?.slo_ms ?? 0;
    const duration = (s.finished_at ?? Date.now()) - s.started_at;
    return {
      stage_id: s.stage_id,
      kind: s.kind,
      executor_identity: run.plan.stages[i]?.executorIdentity ?? '',
      memo_source: run.memoSources[i]?.plan_id ?? null,
      total_shards: s.total,
      done_shards: s.done,
      failed_shards: s.failed,
      reused_shards: s.reused,
      slo_ms: slo,
      duration_ms: duration,
      slo_met: duration <= slo,
      p50_ms: round(s.latency.quantile(0.5)),
      p95_ms: round(s.latency.quantile(0.95)),
    };
  });
}

export function splitSummaries(run: PlanRun): SplitSummary[] {
  return run.layout.records().map((r) => ({
    stage_id: (run.plan.stages[r.stage] as PlanRun['plan']['stages'][number]).id,
    shard_index: r.shard,
    split_factor: r.factor,
    sub_shards: r.parts,
    first_leaf: run.layout.leafOf(r.stage, r.shard),
  }));
}

/**
 * The state a live run shows: `running`, or `certifying` while it is
 * certified. Never an ended state: a run that is aborted or failed still
 * has batches to drain and a report to store, and its status says so (no
 * finished_at, no root) until the engine swaps in the stored report's, in
 * one step — so no status is ever `certified` without its root.
 */
export function liveState(run: PlanRun): 'running' | 'certifying' {
  return run.state === 'certifying' ? 'certifying' : 'running';
}

export function liveStatus(run: PlanRun, startedAt: string): PlanStatus {
  const c = run.counts;
  const running = run.running;
  return {
    plan_id: run.planId,
    plan_name: run.plan.name,
    state: liveState(run),
    total_shards: c.total,
    pending_shards: c.pending,
    claimed_shards: c.inFlight - running,
    running_shards: running,
    done_shards: c.done,
    failed_shards: c.failed,
    reused_shards: c.reused,
    merkle_root: null,
    truth_certified: false,
    started_at: startedAt,
    finished_at: null,
    eta_seconds: run.etaSeconds,
    shards_per_second: Math.round(run.shardsPerSecond),
    ...(run.pausedReason !== undefined ? { paused: run.pausedReason } : {}),
    stages: stageStats(run),
  };
}

/** The status of a plan that has ended, from its report. */
export function finalStatus(report: PlanReport): PlanStatus {
  return {
    plan_id: report.plan_id,
    plan_name: report.plan_name,
    state: report.state,
    total_shards: report.total_shards,
    pending_shards: report.total_shards - report.done_shards - report.failed_shards,
    claimed_shards: 0,
    running_shards: 0,
    done_shards: report.done_shards,
    failed_shards: report.failed_shards,
    reused_shards: report.reused_shards,
    merkle_root: report.merkle_root,
    truth_certified: report.truth_certified,
    started_at: report.started_at,
    finished_at: report.finished_at,
    eta_seconds: 0,
    shards_per_second: 0,
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
