/**
 * Piscina entry for the shard-worker pool. One default export takes every
 * task: msgpack bytes for `items` and `shards` batches (decoded here, answer
 * encoded and moved back), or a plain object for `merkle` (its leaves live in
 * shared memory, so nothing is copied).
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { threadId, workerData } from 'node:worker_threads';
import { move } from 'piscina';
import { decode, encode } from '../src/core/codec.ts';
import { serializeError } from '../src/core/errors.ts';
import { loadExecutor } from '../src/kernel/executor-loader.ts';
import { ProgressBoard } from '../src/kernel/progress-board.ts';
import { native } from '../src/kernel/native.ts';
import { canonicalView } from '../src/core/canonical.ts';
import type { BatchResult, ItemsTask, PoolWorkerData, ShardContext } from '../src/kernel/batch-protocol.ts';
import { runShardBatch, type ShardBatchTask } from '../src/hxo/shard-batch.ts';
import { blockRoots, type MerkleTask } from '../src/hxo/merkle-task.ts';

const data = workerData as PoolWorkerData;
const board = new ProgressBoard(data.progress);
lowerPriority(data.priority);

export default async function handle(task: Uint8Array | MerkleTask): Promise<unknown> {
  // Every task says which thread has it: the pool's watchdog kills that one, and counts the task to it once it ends.
  if (!(task instanceof Uint8Array)) {
    board.assign(task.slot, threadId);
    return blockRoots(task);
  }
  const decoded = decode<ItemsTask | ShardBatchTask>(task);
  board.assign(decoded.slot, threadId);
  // Cancelled while it waited for this thread (a cancel after this point kills the thread).
  if (board.cancelled(decoded.slot)) throw new Error('task cancelled before it started');
  const result = decoded.t === 'items' ? await runItems(decoded) : await runShardBatch(decoded, board, data.store, threadId);
  return move(encode(result) as Uint8Array<ArrayBuffer>);
}

/**
 * Shard work gives way to the node's main thread (the API, the plan's
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

/** Items are not shards of a plan: there is no checkpoint to keep artifacts with. */
function itemContext(item: unknown): ShardContext {
  return {
    putArtifact() {
      throw new Error('artifacts are kept only by the shards of a plan (this executor ran on plain items)');
    },
    inputBytes: () => canonicalView(item),
  };
}

async function runItems(task: ItemsTask): Promise<BatchResult> {
  const results: BatchResult['results'] = [];
  let execute;
  try {
    execute = await loadExecutor(task.module, task.executor);
  } catch (err) {
    const e = serializeError(err);
    return { results: task.items.map(() => ({ ok: false, e })) };
  }
  for (let i = 0; i < task.items.length; i++) {
    board.begin(task.slot, i, threadId);
    try {
      results.push({ ok: true, v: await execute(task.items[i], task.config, itemContext(task.items[i])) });
    } catch (err) {
      results.push({ ok: false, e: serializeError(err) });
    }
  }
  board.end(task.slot);
  return { results };
}
