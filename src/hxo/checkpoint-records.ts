/**
 * The HXO engine's records in LMDB, shared by the plan actor (main thread)
 * and the shard workers (pool threads).
 *
 * - `checkpoints`: [plan_id, stage_index, shard_index] → Checkpoint, for every
 *   shard that ended for good. Absent means pending: a claimed or running
 *   shard of a crashed node is therefore pending again on resume by construction.
 * - `memo`: [kind, full content address] → the output's canonical bytes.
 * - `plans`: plan_id → PlanRecord.
 */
export const CHECKPOINTS_DB = 'checkpoints';
export const MEMO_DB = 'memo';
export const PLANS_DB = 'plans';

export const enum Phase {
  Done = 1,
  Failed = 2,
}

export interface Checkpoint {
  /** cas_id */
  c: string;
  p: Phase;
  /** output_digest, 32 raw bytes (done only) */
  d?: Uint8Array;
  /** the output's canonical msgpack bytes (done only) */
  o?: Uint8Array;
  /** attempts made */
  a: number;
  /** the last error (failed only) */
  e?: string;
  /** 1 when the output came from the memo */
  r?: 1;
  ms: number;
}

export interface MemoEntry {
  o: Uint8Array;
}

export function checkpointKey(planId: string, stage: number, shard: number): (string | number)[] {
  return [planId, stage, shard];
}

export function memoKey(kind: string, full: string): string[] {
  return [kind, full];
}
