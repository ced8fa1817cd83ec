/**
 * What a workflow run keeps in LMDB, and the API's view of it (seed 004
 * §45.4). `xyn_runs`: run_id → RunRecord (small: status, the cursor, the
 * limits' counters). `xyn_steps`: `<run_id>/<index>` → StepRecord, each with
 * its compiled definition, so the run's execution plan is stored with the run
 * and a blueprint changed later changes no run already made. `xyn_run_index`:
 * `s:<status>:<run_id>` and `b:<blueprint_id>:<run_id>` for filtered lists,
 * and `k:<key>` → run_id, the trigger that made a run (an event and a
 * blueprint, a cron fire), so a trigger handled twice makes one run.
 *
 * Run ids are UUIDv7: their key order is the order runs were made in.
 */
import type { Database } from 'lmdb';
import type { Store } from '../../store/env.ts';
import type { Blueprint, BlueprintStep } from '../blueprint/index.ts';

export const RUN_STATUSES = ['created', 'running', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const STEP_STATUSES = ['created', 'running', 'completed', 'failed', 'skipped'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const ENDED_RUN: ReadonlySet<RunStatus> = new Set(['completed', 'failed', 'cancelled']);

/** Why a run or step failed (seed 004 §45.7's error shape, with the step it is about). */
export interface RunError {
  code: string;
  message: string;
  details?: Record<string, unknown> | null;
  step_id?: string;
}

/** What made the run. */
export interface RunTrigger {
  kind: 'event' | 'hook' | 'manual' | 'cron';
  event_name?: string;
  event_seq?: number;
  /** A cron fire: the fire time it is for, and how many earlier ones it stands for. */
  scheduled_at?: string;
  missed?: number;
}

export interface RunRecord {
  run_id: string;
  name: string;
  blueprint_id: string;
  blueprint_version: number;
  /** blueprintDigest of the definition the run was compiled from. */
  blueprint_digest: string;
  status: RunStatus;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  /** Who started it: a principal, or `system` for a trigger. */
  actor: string;
  correlation_id: string;
  priority: number;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
  error: RunError | null;
  trigger: RunTrigger;
  /** The triggering event, for `{{event.…}}` read when a step starts (a bare `when`). */
  event: { name: string; data: unknown } | null;
  /** The blueprint's outputs, their input templates filled in: resolved when the last step has ended. */
  output_defs: Blueprint['outputs'];
  step_count: number;
  /** Index of the first step not ended: where the run goes on. */
  cursor: number;
  /** Steps started so far (skipped ones included), against XYN_RUN_MAX_STEPS. */
  steps_started: number;
  /** Wall-clock ms spent running steps (not waiting at a gate), against XYN_RUN_MAX_WALL_MS. */
  active_ms: number;
  /** The gate the run waits at, if it waits. */
  waiting_on: string | null;
  /** How many runs' events led to this one (a run started by an event a run emitted is one deeper). */
  chain_depth: number;
}

export interface GateDecision {
  decision: 'approved' | 'rejected';
  by: string;
  reason: string | null;
  at: string;
}

export interface StepRecord {
  run_id: string;
  step_id: string;
  index: number;
  kind: BlueprintStep['kind'];
  status: StepStatus;
  started_at: string | null;
  completed_at: string | null;
  attempts: number;
  /** What the step ran with: an action's `with` (redacted), a transform's or gate's nothing. */
  inputs: Record<string, unknown> | null;
  outputs: Record<string, unknown> | null;
  error: RunError | null;
  /** Whether the attempt running now may run again after a restart (its action's idempotency for this input). */
  rerunnable?: boolean;
  gate?: GateDecision;
  /** The artifact of the step's log (JSON lines), once the step has ended. */
  logs_artifact_id?: string;
  /** The step as compiled for this run. */
  def: BlueprintStep;
}

/** Run as the API gives it (seed 004 §45.4, plus where it came from and where it stands). */
export function runDto(r: RunRecord): Record<string, unknown> {
  return {
    run_id: r.run_id,
    name: r.name,
    status: r.status,
    created_at: r.created_at,
    started_at: r.started_at,
    completed_at: r.completed_at,
    actor: r.actor,
    correlation_id: r.correlation_id,
    inputs: r.inputs,
    outputs: r.outputs,
    error: r.error,
    blueprint_id: r.blueprint_id,
    blueprint_version: r.blueprint_version,
    blueprint_digest: r.blueprint_digest,
    priority: r.priority,
    trigger: r.trigger,
    step_count: r.step_count,
    steps_ended: r.cursor,
    waiting_on: r.waiting_on,
  };
}

/** Step as the API gives it (seed 004 §45.4): its id is the blueprint step's id, unique within the run. */
export function stepDto(s: StepRecord): Record<string, unknown> {
  return {
    step_id: s.step_id,
    run_id: s.run_id,
    name: s.step_id,
    kind: s.kind,
    index: s.index,
    status: s.status,
    started_at: s.started_at,
    completed_at: s.completed_at,
    logs_artifact_id: s.logs_artifact_id ?? null,
    inputs: s.inputs,
    outputs: s.outputs,
    error: s.error,
    attempts: s.attempts,
    ...(s.kind === 'gate' ? { gate: s.gate ?? (s.status === 'running' ? { decision: 'waiting' } : null) } : {}),
    ...(s.kind === 'action_task' ? { action: s.def.kind === 'action_task' ? s.def.action : null } : {}),
  };
}

export const stepKey = (runId: string, index: number): string => `${runId}/${String(index).padStart(3, '0')}`;
export const statusKey = (status: RunStatus, runId: string): string => `s:${status}:${runId}`;
export const blueprintKey = (blueprintId: string, runId: string): string => `b:${blueprintId}:${runId}`;
export const triggerKey = (key: string): string => `k:${key}`;

export function runsDb(store: Store): Database<RunRecord, string> {
  return store.db<string, RunRecord>('xyn_runs');
}

export function stepsDb(store: Store): Database<StepRecord, string> {
  return store.db<string, StepRecord>('xyn_steps');
}

/** Index keys → 1, trigger keys → run_id. */
export function runIndexDb(store: Store): Database<string | number, string> {
  return store.db<string, string | number>('xyn_run_index');
}
