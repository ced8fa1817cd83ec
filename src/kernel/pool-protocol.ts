/**
 * What travels to the worker pool's threads (actors/pool-worker.ts): a
 * `t`-tagged union of tasks, each holding the ProgressBoard `slot` the pool
 * gave it, and the answers.
 *
 * The kernel runs one type itself, `items`. The layers above bring theirs:
 * the pool is created with a module URL per task type (WorkerPoolOptions
 * `tasks`), and each thread imports those modules as it starts and runs a
 * task of type T with the module's `poolTasks[T]` (a TaskHandler).
 */
import type { SerializedError } from '../core/errors.ts';
import type { ProgressBoard } from './progress-board.ts';

/** The key of the message a thread posts once its task modules are loaded: `{[THREAD_UP]: threadId}`. */
export const THREAD_UP = 'xyn_thread_up';

/** Given to every pool thread at start. */
export interface PoolWorkerData {
  xyn_entry: string;
  progress: SharedArrayBuffer;
  /** LMDB environment path the pool's tasks may open (the node's store). */
  store: string | null;
  /** How the pool's threads give way to the main thread (XYN_WORKER_PRIORITY). */
  priority: 'idle' | 'low' | 'normal';
  /** Task type → URL of the module whose `poolTasks` export handles it. */
  tasks: Record<string, string>;
}

/** Every task: its type, and its slot on the pool's ProgressBoard. */
export interface PoolTask {
  t: string;
  slot: number;
}

/** What a task's handler is given besides the task: the thread it runs on. */
export interface PoolThread {
  /** Where the task notes which of its items it is on (`begin`, `end`), for the pool's watchdog. */
  board: ProgressBoard;
  threadId: number;
  /** PoolWorkerData.store. */
  store: string | null;
}

/**
 * Runs one task of its type in a pool thread. Its answer goes back as it is
 * for a task sent as an object, or msgpack-encoded for one sent encoded
 * (WorkerPool.runTask's `encode`).
 */
export type TaskHandler<T extends PoolTask = PoolTask> = (task: T, thread: PoolThread) => unknown;

/** The kernel's own task: each item through a function that a module exports. */
export interface ItemsTask extends PoolTask {
  t: 'items';
  /** Path or file URL of the module. */
  module: string;
  /** The name of the function it exports: called with each item and `config`. */
  export: string;
  config: Record<string, unknown>;
  items: unknown[];
}

export interface BatchResult {
  results: ({ ok: true; v: unknown } | { ok: false; e: SerializedError })[];
}
