/**
 * What footprints and impressions keep in LMDB (seed 004 §5.3).
 * `xyn_footprints`: footprint_id (UUIDv7: key order is the order they were
 * recorded in) → FootprintRow. `xyn_footprint_index`: `r:<run_id>:<id>`,
 * `m:<metric>:<id>`, `b:<blueprint_id>:<id>` → 1 for the lists;
 * `u:<blueprint_id>:<metric>:<day>` → Rollup, kept up to date as rows are
 * written so a sum over days reads one entry a day, never the rows; and
 * `w:<blueprint_id>` → the last wall_ms of its ended runs, for its p95.
 * `xyn_impressions`: run_id → ImpressionRecord.
 */
import type { Database } from 'lmdb';
import type { Store } from '../../store/env.ts';

export const SOURCE_KINDS = ['run', 'step', 'action', 'agent', 'artifact'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** A metric's name: few, stable, lowercase (`tokens_in`, `run.count`) — they are index keys and rule paths. */
export const METRIC_PATTERN = /^[a-z][a-z0-9_.]{0,63}$/;

export type Dims = Record<string, string | number | boolean>;

/** What a footprint measured and of what (a step's tally sums these). */
export interface Measure {
  source_kind: SourceKind;
  /** What it is of: the run's id, the step's id, the action's name. */
  source_ref: string;
  metric: string;
  quantity: number;
  unit: string;
  dims: Dims;
}

/** One measured consumption, one per (source_kind, source_ref, metric) per step (§5.3.3). */
export interface FootprintRow extends Measure {
  footprint_id: string;
  run_id: string;
  /** Null for what the run itself counts (run.count). */
  step_id: string | null;
  blueprint_id: string;
  recorded_at: string;
}

/** The running totals of one metric of one blueprint on one UTC day. */
export interface Rollup {
  sum: number;
  /** Rows summed. */
  count: number;
  unit: string;
}

/** One label an impression rule gave a run. */
export interface Impression {
  label: string;
  value: string | number | boolean;
  /** The index of the rule that gave it, in the rule file. */
  rule: number;
}

export interface ImpressionRecord {
  run_id: string;
  blueprint_id: string;
  impressions: Impression[];
  /** What the rules were evaluated over: the run, its footprints' sums, the blueprint's earlier runs. */
  basis: Record<string, unknown>;
  /** Rules whose expression could not be evaluated on this run, and why (they gave no label). */
  errors: { rule: number; message: string }[];
  evaluated_at: string;
}

export const runKey = (runId: string, id: string): string => `r:${runId}:${id}`;
export const metricKey = (metric: string, id: string): string => `m:${metric}:${id}`;
export const blueprintKey = (blueprintId: string, id: string): string => `b:${blueprintId}:${id}`;
export const rollupKey = (blueprintId: string, metric: string, day: string): string => `u:${blueprintId}:${metric}:${day}`;
/** The rollups of one blueprint, or of all. */
export const rollupPrefix = (blueprintId?: string): string => (blueprintId === undefined ? 'u:' : `u:${blueprintId}:`);
export const wallSamplesKey = (blueprintId: string): string => `w:${blueprintId}`;

export function footprintsDb(store: Store): Database<FootprintRow, string> {
  return store.db<string, FootprintRow>('xyn_footprints');
}

/** Index keys → 1, rollup keys → Rollup, wall-sample keys → number[]. */
export function footprintIndexDb(store: Store): Database<1 | Rollup | number[], string> {
  return store.db<string, 1 | Rollup | number[]>('xyn_footprint_index');
}

export function impressionsDb(store: Store): Database<ImpressionRecord, string> {
  return store.db<string, ImpressionRecord>('xyn_impressions');
}
