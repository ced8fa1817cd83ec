/**
 * Piscina entry for the kernel's worker pool. One default export takes every
 * task: msgpack bytes (decoded here, the answer encoded and moved back), or
 * a plain object whose answer goes back as it is (the hxo layer's `merkle`
 * tasks: their leaves live in shared memory, so nothing is copied).
 *
 * The kernel's own `items` task is run here. Every other type is the layers
 * above's: the pool names a module per type (PoolWorkerData.tasks), this
 * thread starts importing them as it starts, and runs a task with its
 * module's `poolTasks[type]` — looked up once per type, then kept.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { move } from 'piscina';
import { decode, encode } from '../src/core/codec.ts';
import { serializeError } from '../src/core/errors.ts';
import { importOnce } from '../src/kernel/worker-entry.ts';
import { ProgressBoard } from '../src/kernel/progress-board.ts';
import { native } from '../src/kernel/native.ts';
import { THREAD_UP, type BatchResult, type ItemsTask, type PoolTask, type PoolThread, type PoolWorkerData, type TaskHandler } from '../src/kernel/pool-protocol.ts';

const data = workerData as PoolWorkerData;
const board = new ProgressBoard(data.progress);
const thread: PoolThread = { board, threadId, store: data.store };
lowerPriority(data.priority);

/** Handlers by task type, once found. */
const handlers = new Map<string, TaskHandler>([['items', (task) => runItems(task as ItemsTask)]]);
/** The layers' task modules, loading from the thread's start (as static imports would); a failure is the error of the tasks of its types. */
const loading = new Map<string, Promise<TaskHandler>>();
for (const [t, url] of Object.entries(data.tasks)) {
  const handler = importOnce(url).then((mod) => {
    const handle = (mod.poolTasks as Record<string, TaskHandler> | undefined)?.[t];
    if (typeof handle !== 'function') throw new TypeError(`module ${url} has no poolTasks.${t} to run "${t}" tasks`);
    return handle;
  });
  handler.catch(() => {});
  loading.set(t, handler);
}

// Up once every module has loaded (or failed to): the pool does not end a thread before that (see WorkerPool.close).
void Promise.allSettled(loading.values()).then(() => parentPort?.postMessage({ [THREAD_UP]: threadId }));

async function handlerOf(t: string): Promise<TaskHandler> {
  const handler = loading.get(t);
  if (!handler) throw new TypeError(`the worker pool has no handler for "${t}" tasks`);
  const handle = await handler;
  handlers.set(t, handle);
  return handle;
}

export default async function handle(task: Uint8Array | PoolTask): Promise<unknown> {
  // Every task says which thread has it: the pool's watchdog kills that one, and counts the task to it once it ends.
  if (!(task instanceof Uint8Array)) {
    board.assign(task.slot, threadId);
    return (handlers.get(task.t) ?? (await handlerOf(task.t)))(task, thread);
  }
  const decoded = decode<PoolTask>(task);
  board.assign(decoded.slot, threadId);
  // Cancelled while it waited for this thread (a cancel after this point kills the thread).
  if (board.cancelled(decoded.slot)) throw new Error('task cancelled before it started');
  const result = await (handlers.get(decoded.t) ?? (await handlerOf(decoded.t)))(decoded, thread);
  return move(encode(result) as Uint8Array<ArrayBuffer>);
}

/**
 * Pool work gives way to the node's main thread (the API, the plans'
 * bookkeeping): 'idle' puts this thread in SCHED_IDLE (it runs only when
 * nothing else wants the CPU; nice +10 where that is not possible), 'low'
 * runs it at nice +5. Linux only; elsewhere, or without the right, it runs
 * at the normal priority.
 */
function lowerPriority(priority: PoolWorkerData['priority']): void {
  if (priority === 'normal' || process.platform !== 'linux') return;
  if (priority === 'idle' && native?.schedIdle()) return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, Math.min(19, getPriority(tid) + (priority === 'idle' ? 10 : 5)));
  } catch {
    // Not allowed here: normal priority then.
  }
}

async function runItems(task: ItemsTask): Promise<BatchResult> {
  const results: BatchResult['results'] = [];
  let fn: (item: unknown, config: Record<string, unknown>) => unknown;
  try {
    const exported = (await importOnce(task.module))[task.export];
    if (typeof exported !== 'function') throw new TypeError(`module ${task.module} has no function export "${task.export}"`);
    fn = exported as typeof fn;
  } catch (err) {
    const e = serializeError(err);
    return { results: task.items.map(() => ({ ok: false, e })) };
  }
  for (let i = 0; i < task.items.length; i++) {
    board.begin(task.slot, i, threadId);
    try {
      results.push({ ok: true, v: await fn(task.items[i], task.config) });
    } catch (err) {
      results.push({ ok: false, e: serializeError(err) });
    }
  }
  board.end(task.slot);
  return { results };
}
