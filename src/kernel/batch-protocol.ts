/**
 * What travels to the shard-worker threads: a `t`-tagged union of tasks, each
 * holding the ProgressBoard `slot` the pool gave it, and the answers.
 */
import type { SerializedError } from '../core/errors.ts';

/** Given to every pool thread at start. */
export interface PoolWorkerData {
  xyn_entry: string;
  progress: SharedArrayBuffer;
  /** LMDB environment path, when the pool's tasks write checkpoints. */
  store: string | null;
  /** How the pool's threads give way to the main thread (XYN_WORKER_PRIORITY). */
  priority: 'idle' | 'low' | 'normal';
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

/** What a shard's executor may use besides its input and config. */
export interface ShardContext {
  /**
   * Keeps `bytes` as an artifact in the node's content-addressed store and
   * returns their sha256 (hex). Artifacts are written in the same transaction
   * as the shard's checkpoint: a shard is never done without them.
   */
  putArtifact(bytes: Uint8Array): string;
  /**
   * The canonical msgpack of this shard's input as its address hashed it
   * (valid during the call; do not keep or change it): an executor that
   * hashes its input need not encode it again.
   */
  inputBytes(): Uint8Array;
}

/**
 * What an executor module exports: executors by name, each one input (and the
 * stage config, and a ShardContext) in, one output out.
 */
export type ExecutorModule = {
  executors: Record<string, (input: unknown, config: Record<string, unknown>, shard: ShardContext) => unknown>;
};
