/**
 * What travels to the shard-worker threads: a `t`-tagged union of tasks, each
 * holding the ProgressBoard `slot` the pool gave it, and the answers.
 */
import type { SerializedError } from './errors.ts';

/** Given to every pool thread at start. */
export interface PoolWorkerData {
  xyn_entry: string;
  progress: SharedArrayBuffer;
  /** LMDB environment path, when the pool's tasks write checkpoints. */
  store: string | null;
}

/** Generic: run each item through an executor. */
export interface ItemsTask {
  t: 'items';
  slot: number;
  /** Path or file URL of the module exporting `executors`. */
  module: string;
  executor: string;
  config: Record<string, unknown>;
  items: unknown[];
}

export interface BatchResult {
  results: ({ ok: true; v: unknown } | { ok: false; e: SerializedError })[];
}

/** What an executor module exports: executors by name, each one input (and the stage config) in, one output out. */
export type ExecutorModule = {
  executors: Record<string, (input: unknown, config: Record<string, unknown>) => unknown>;
};
