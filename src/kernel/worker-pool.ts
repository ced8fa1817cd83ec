/**
 * The shard-worker pool: Piscina threads (XYN_WORKERS of them) that run
 * batches of work items through an executor loaded from a module.
 *
 * A batch travels as one msgpack buffer, transferred. Executor errors come
 * back per item as values; a rejected task therefore means the thread itself
 * died. Piscina replaces the dead thread; the pool says so on the bus and runs
 * the batch again, so a batch in flight is never lost (up to `maxAttempts`).
 *
 *   const pool = new WorkerPool({ size: 2 });
 *   const results = await pool.run('/abs/executors.js', 'hash', items);
 */
import { Piscina } from 'piscina';
import { decode, encode } from './codec.ts';
import { deserializeError } from './errors.ts';
import { WorkerExitError, type KernelNotice } from './actor.ts';
import { workerEntry, type WorkerEntry } from './worker-entry.ts';
import type { BatchResult, BatchTask } from './batch-protocol.ts';

export interface WorkerPoolOptions {
  size: number;
  entry?: WorkerEntry;
  notice?: KernelNotice;
  /** Tries per batch when threads die under it (default 3). */
  maxAttempts?: number;
}

export type ItemResult<O> = { ok: true; value: O } | { ok: false; error: Error };

export class WorkerPool {
  private readonly pool: Piscina;
  private readonly notice: KernelNotice;
  private readonly maxAttempts: number;
  private completed = 0;
  private replaced = 0;
  private closed = false;

  constructor(readonly options: WorkerPoolOptions) {
    const entry = options.entry ?? workerEntry('shard-worker');
    this.notice = options.notice ?? (() => {});
    this.maxAttempts = options.maxAttempts ?? 3;
    this.pool = new Piscina({
      filename: entry.filename,
      workerData: entry.workerData,
      minThreads: options.size,
      maxThreads: options.size,
      idleTimeout: Number.POSITIVE_INFINITY,
      // Batches are coarse; queue as many as callers submit (they bound themselves).
      maxQueue: Number.POSITIVE_INFINITY,
    });
    this.pool.on('workerDestroy', () => {
      if (this.closed) return;
      this.replaced++;
      this.notice('xyn.kernel.worker.replaced', { pool: 'shard-worker', replaced: this.replaced });
    });
    // Errors outside any task (a thread dying while idle) are reported, not thrown.
    this.pool.on('error', (err: Error) =>
      this.notice('xyn.kernel.worker.error', { pool: 'shard-worker', error: err.message }),
    );
  }

  /** Runs `items` through `executor` of `module` on one thread; results in item order. */
  async run<I, O>(module: string, executor: string, items: readonly I[]): Promise<ItemResult<O>[]> {
    const task: BatchTask = { module, executor, items: items as unknown[] };
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const bytes = encode(task);
      let reply: Uint8Array;
      try {
        reply = (await this.pool.run(bytes, { transferList: [bytes.buffer as ArrayBuffer] })) as Uint8Array;
      } catch (err) {
        lastError = err;
        this.notice('xyn.kernel.worker.batch_retried', {
          pool: 'shard-worker',
          attempt,
          items: items.length,
          error: err instanceof Error ? err.message : String(err),
        });
        continue;
      }
      const { results } = decode<BatchResult>(reply);
      this.completed++;
      return results.map((r) => (r.ok ? { ok: true, value: r.v as O } : { ok: false, error: deserializeError(r.e) }));
    }
    const reason = lastError instanceof Error ? lastError.message : String(lastError);
    throw new WorkerExitError('shard-worker pool', null, `batch failed ${this.maxAttempts} times: ${reason}`);
  }

  /** The pool's threads (tests kill one mid-batch to prove recovery). */
  get threads(): readonly { threadId: number; terminate(): Promise<number> }[] {
    return this.pool.threads;
  }

  stats(): { size: number; queued: number; completed_batches: number; replaced_threads: number; utilization: number } {
    return {
      size: this.options.size,
      queued: this.pool.queueSize,
      completed_batches: this.completed,
      replaced_threads: this.replaced,
      utilization: this.pool.utilization,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.destroy();
  }
}
