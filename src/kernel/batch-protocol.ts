/** The shape of a batch handed to a shard-worker thread, and of its answer. */
import type { SerializedError } from './errors.ts';

export interface BatchTask {
  /** Path or file URL of the module exporting `executors`. */
  module: string;
  executor: string;
  items: unknown[];
}

export interface BatchResult {
  results: ({ ok: true; v: unknown } | { ok: false; e: SerializedError })[];
}

/** What an executor module exports: executors by name, each one item in, one output out. */
export type ExecutorModule = {
  executors: Record<string, (input: unknown) => unknown>;
};
