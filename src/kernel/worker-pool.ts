/**
 * The worker pool ('shard-worker' in its events): Piscina threads
 * (XYN_WORKERS of them) that run batches of work — `t`-tagged tasks. The
 * kernel runs `items` itself; the layers above bring their task types as
 * modules the threads import (`tasks`, pool-protocol.ts): the hxo layer's
 * shard batches and Merkle blocks.
 *
 * - A batch travels as one msgpack buffer, transferred. Per-item errors come
 *   back as values; a rejected task means the thread itself died.
 * - Each task in flight holds a slot on a shared ProgressBoard where its
 *   thread notes which item it is on and since when. A watchdog kills a thread
 *   whose item overruns the task's `itemTimeoutMs` (even a synchronous
 *   infinite loop) and the task rejects with ItemTimeoutError naming the item;
 *   Piscina starts a replacement thread and the pool says so on the bus.
 * - A task can be cancelled (`signal`): running, its thread is killed; still
 *   waiting for a thread, the thread refuses it. It rejects with
 *   TaskCancelledError — unless it had finished first: then it resolves, and
 *   the caller ignores what it no longer wants. (Piscina's own abort signal is
 *   not used: it keeps abortable tasks alone on their thread, halving what a
 *   thread runs at once.)
 * - Killing a thread also ends the other task it was running (a thread runs
 *   two at once): that one rejects with BystanderError, so its caller knows
 *   none of its items was at fault.
 * - `run` (generic items) runs a batch again when its thread dies, so a batch
 *   in flight is never lost (up to `maxAttempts`).
 *
 *   const pool = new WorkerPool({ size: 2 });
 *   const results = await pool.run('/abs/functions.js', 'double', items);
 */
import { Piscina } from 'piscina';
import { decode, encode } from '../core/codec.ts';
import { deserializeError, XynError, registerErrorClass } from '../core/errors.ts';
import { WorkerExitError, type ActorInfo, type KernelNotice } from './actor.ts';
import { workerEntry, type WorkerEntry } from './worker-entry.ts';
import { ProgressBoard } from './progress-board.ts';
import { PoolThreads, type PoolThread } from './pool-threads.ts';
import { THREAD_UP, type BatchResult, type ItemsTask, type PoolTask, type PoolWorkerData } from './pool-protocol.ts';

export interface WorkerPoolOptions {
  size: number;
  entry?: WorkerEntry;
  notice?: KernelNotice;
  /** Tries per batch when threads die under it (default 3). */
  maxAttempts?: number;
  /** LMDB environment the threads' tasks may open (the node's store). */
  storePath?: string;
  /** Task types of the layers above: type → URL of the module whose `poolTasks[type]` runs them (pool-protocol.ts). */
  tasks?: Record<string, string>;
  /** Most tasks in flight (default 64); more wait for a slot. */
  slots?: number;
  /** How the pool's threads give way to the main thread (default 'normal': they do not). */
  priority?: PoolWorkerData['priority'];
}

export type ItemResult<O> = { ok: true; value: O } | { ok: false; error: Error };

/** An item of a task ran past its timeout; its thread was killed. */
export class ItemTimeoutError extends XynError {
  constructor(
    readonly position: number,
    readonly ms: number,
  ) {
    super(`item ${position} of the task ran past ${ms} ms; its thread was killed`, 'ITEM_TIMEOUT', { position, ms });
  }
}
registerErrorClass(ItemTimeoutError);

/** The thread running a task died; `position` is the item it was on (-1: none known). */
export class ThreadDiedError extends XynError {
  constructor(
    readonly position: number,
    readonly reason: string,
  ) {
    super(`worker thread died${position >= 0 ? ` on item ${position}` : ''}: ${reason}`, 'THREAD_DIED', { position, reason });
  }
}
registerErrorClass(ThreadDiedError);

/** The task was cancelled by its caller (its thread killed if it was running). */
export class TaskCancelledError extends XynError {
  constructor(readonly position: number) {
    super(`task cancelled${position >= 0 ? ` on item ${position}` : ''}`, 'TASK_CANCELLED', { position });
  }
}
registerErrorClass(TaskCancelledError);

/** The task's thread was killed because of another task it was running: no item of this one was at fault. */
export class BystanderError extends XynError {
  constructor(readonly reason: string) {
    super(`worker thread killed because of another task: ${reason}`, 'THREAD_KILLED_FOR_ANOTHER_TASK', { reason });
  }
}
registerErrorClass(BystanderError);

export interface RunTaskOptions {
  itemTimeoutMs?: number;
  encode?: boolean;
  /** Cancels the task: dropped if queued, its thread killed if running. */
  signal?: AbortSignal;
  /** Told the ProgressBoard slot of the task once it has one (to watch its items). */
  onSlot?: (slot: number) => void;
}

const WATCHDOG_MS = 100;
/** How long close() lets threads that are still starting finish loading. */
const BOOT_WAIT_MS = 10_000;

export class WorkerPool {
  private readonly pool: Piscina;
  private readonly notice: KernelNotice;
  private readonly maxAttempts: number;
  readonly board: ProgressBoard;
  private readonly freeSlots: number[];
  private readonly slotWaiters: ((slot: number) => void)[] = [];
  private readonly deadlines = new Map<number, { ms: number; timedOut: boolean }>();
  /** Threads the pool killed, and the slot of the task it killed them for (bounded: recent kills only). */
  private readonly killedFor = new Map<number, number>();
  private watchdog: NodeJS.Timeout | null = null;
  private completed = 0;
  private replaced = 0;
  private closed = false;
  /** For info(): tasks that ended with an answer (batches, not shards), each thread's share, since when the pool runs. */
  private tasksDone = 0;
  private readonly threadSlots = new PoolThreads();
  private readonly startedAt = Date.now();
  /** Threads made and not yet up (their modules, LMDB's native one among them, still loading); ids of threads up. */
  private readonly booting = new Set<PoolThread>();
  private readonly up = new Set<number>();
  private bootWaiters: (() => void)[] = [];

  constructor(readonly options: WorkerPoolOptions) {
    const entry = options.entry ?? workerEntry('pool-worker');
    this.notice = options.notice ?? (() => {});
    this.maxAttempts = options.maxAttempts ?? 3;
    const slots = options.slots ?? 64;
    this.board = ProgressBoard.create(slots);
    this.freeSlots = Array.from({ length: slots }, (_, i) => slots - 1 - i);
    const workerData: PoolWorkerData = { ...entry.workerData, progress: this.board.buffer, store: options.storePath ?? null, priority: options.priority ?? 'normal', tasks: options.tasks ?? {} };
    this.pool = new Piscina({
      filename: entry.filename,
      workerData,
      minThreads: options.size,
      maxThreads: options.size,
      idleTimeout: Number.POSITIVE_INFINITY,
      // A thread computes its next batch while the last one's commit is flushed to disk.
      concurrentTasksPerWorker: 2,
      // Tasks await LMDB commits: a thread must keep its event loop running between
      // tasks (Piscina's default 'sync' atomics would freeze it until the next task).
      atomics: 'async',
      // Callers bound themselves (slots); Piscina's own queue may hold them all.
      maxQueue: Number.POSITIVE_INFINITY,
    });
    this.pool.on('workerCreate', (thread: PoolThread) => {
      this.threadSlots.created(thread);
      if (!this.up.has(thread.id)) this.booting.add(thread);
    });
    this.pool.on('message', (message: unknown) => {
      const id = (message as { [THREAD_UP]?: unknown } | null)?.[THREAD_UP];
      if (typeof id === 'number') this.booted(id);
    });
    this.pool.on('workerDestroy', (thread: PoolThread) => {
      this.booting.delete(thread);
      this.booted(-1);
      this.threadSlots.destroyed();
      if (this.closed) return;
      this.replaced++;
      this.notice('xyn.kernel.worker.replaced', { pool: 'shard-worker', replaced: this.replaced });
    });
    // Errors outside any task (a thread dying while idle) are reported, not thrown.
    this.pool.on('error', (err: Error) => this.notice('xyn.kernel.worker.error', { pool: 'shard-worker', error: err.message }));
  }

  /**
   * Runs one task (a `t`-tagged object with a `slot` field the pool fills in)
   * on some thread: msgpack-encoded, or, with `encode: false`, as it is. Rejects with ItemTimeoutError when an item overruns
   * `itemTimeoutMs`, or with the thread's death otherwise. No retry here.
   */
  async runTask<T extends PoolTask>(task: Omit<T, 'slot'>, options: RunTaskOptions = {}): Promise<unknown> {
    if (options.signal?.aborted) throw new TaskCancelledError(-1);
    const slot = await this.acquireSlot();
    this.board.reset(slot);
    options.onSlot?.(slot);
    const deadline = { ms: options.itemTimeoutMs ?? 0, timedOut: false };
    if (deadline.ms > 0) this.deadlines.set(slot, deadline);
    this.ensureWatchdog();
    const { signal } = options;
    if (signal?.aborted) this.board.cancel(slot);
    const onCancel = (): void => {
      this.board.cancel(slot);
      const { threadId } = this.board.read(slot);
      if (threadId > 0) this.kill(threadId, slot, 'task cancelled');
    };
    signal?.addEventListener('abort', onCancel, { once: true });
    try {
      const full = { ...task, slot };
      let answer: unknown;
      if (options.encode === false) answer = await this.pool.run(full);
      else {
        const bytes = encode(full);
        answer = decode(await this.pool.run(bytes, { transferList: [bytes.buffer as ArrayBuffer] }));
      }
      this.tasksDone++;
      this.threadSlots.completed(this.board.read(slot).threadId);
      return answer;
    } catch (err) {
      const { startedAt, position, threadId } = this.board.read(slot);
      if (signal?.aborted) throw new TaskCancelledError(startedAt > 0 ? position : -1);
      if (deadline.timedOut) throw new ItemTimeoutError(position, deadline.ms);
      const killedFor = threadId > 0 ? this.killedFor.get(threadId) : undefined;
      if (killedFor !== undefined && killedFor !== slot) throw new BystanderError(err instanceof Error ? err.message : String(err));
      throw new ThreadDiedError(startedAt > 0 ? position : -1, err instanceof Error ? err.message : String(err));
    } finally {
      signal?.removeEventListener('abort', onCancel);
      this.deadlines.delete(slot);
      this.board.end(slot);
      this.releaseSlot(slot);
    }
  }

  /** Runs `items` through the function `module` exports as `name` (with `config`) on one thread; results in item order. */
  async run<I, O>(module: string, name: string, items: readonly I[], config: Record<string, unknown> = {}): Promise<ItemResult<O>[]> {
    const task: Omit<ItemsTask, 'slot'> = { t: 'items', module, export: name, config, items: items as unknown[] };
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      let reply: BatchResult;
      try {
        reply = (await this.runTask<ItemsTask>(task)) as BatchResult;
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
      this.completed++;
      return reply.results.map((r) => (r.ok ? { ok: true, value: r.v as O } : { ok: false, error: deserializeError(r.e) }));
    }
    const reason = lastError instanceof Error ? lastError.message : String(lastError);
    throw new WorkerExitError('shard-worker pool', null, `batch failed ${this.maxAttempts} times: ${reason}`);
  }

  /** Whether the pool's threads run tasks of type `t`. */
  handles(t: string): boolean {
    return t === 'items' || this.options.tasks?.[t] !== undefined;
  }

  /** The pool's threads (tests kill one mid-batch to prove recovery). */
  get threads(): readonly { threadId: number; terminate(): Promise<number> }[] {
    return this.pool.threads;
  }

  get size(): number {
    return this.options.size;
  }

  stats(): { size: number; queued: number; in_flight: number; completed_batches: number; replaced_threads: number; utilization: number } {
    return {
      size: this.options.size,
      queued: this.queued,
      in_flight: this.board.slots - this.freeSlots.length,
      completed_batches: this.completed,
      replaced_threads: this.replaced,
      utilization: this.pool.utilization,
    };
  }

  /**
   * The pool and its threads for the supervision tree. Shown under root but
   * supervised by no one there: Piscina replaces a dead thread itself (and
   * `run` retries the batch it held), so a supervisor would have nothing to
   * restart; and the kernel closes the pool only after root's children have
   * stopped (plans drain their batches through it).
   */
  info(): ActorInfo {
    const children = this.threadSlots.info(this.closed);
    return { name: 'pool', kind: 'pool', state: this.closed ? 'stopped' : 'running', mailbox: this.queued, handled: this.tasksDone, restarts: this.replaced, started_at: this.closed ? null : this.startedAt, children };
  }

  /** Tasks waiting for a thread (in Piscina's queue) or for a slot. */
  private get queued(): number {
    return this.pool.queueSize + this.slotWaiters.length;
  }

  /**
   * Ends the threads. A thread still loading its modules is let finish first
   * (at most BOOT_WAIT_MS): terminating one while a native addon registers
   * (LMDB's) aborts the whole process — a node stopped right after it started.
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.booting.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((resolve) => this.bootWaiters.push(resolve)), new Promise<void>((resolve) => (timer = setTimeout(resolve, BOOT_WAIT_MS)))]);
      clearTimeout(timer);
    }
    await this.pool.destroy();
  }

  /** A thread is up (-1: none, but one that was booting may have gone). */
  private booted(threadId: number): void {
    if (threadId >= 0) this.up.add(threadId);
    for (const t of this.booting) if (t.id === threadId || t.destroyed) this.booting.delete(t);
    if (this.booting.size === 0) for (const wake of this.bootWaiters.splice(0)) wake();
  }

  private acquireSlot(): Promise<number> {
    const slot = this.freeSlots.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve) => this.slotWaiters.push(resolve));
  }

  private releaseSlot(slot: number): void {
    const waiter = this.slotWaiters.shift();
    if (waiter) waiter(slot);
    else this.freeSlots.push(slot);
  }

  private ensureWatchdog(): void {
    if (this.watchdog || this.closed) return;
    this.watchdog = setInterval(() => this.checkDeadlines(), WATCHDOG_MS);
    this.watchdog.unref();
  }

  /** Remembers that thread `threadId` dies because of the task in `slot`. */
  private noteKill(threadId: number, slot: number): void {
    if (threadId <= 0) return;
    this.killedFor.set(threadId, slot);
    // Thread ids are never reused: old entries only need to outlive their tasks' rejections.
    if (this.killedFor.size > 64) this.killedFor.delete(this.killedFor.keys().next().value as number);
  }

  /** Kills the thread of every item past its deadline (its task then rejects). */
  private checkDeadlines(): void {
    const now = Date.now();
    for (const [slot, deadline] of this.deadlines) {
      const { startedAt, threadId } = this.board.read(slot);
      // A grace of two ticks lets a thread's own timer fail an async item first.
      if (deadline.timedOut || startedAt === 0 || now - startedAt <= deadline.ms + 2 * WATCHDOG_MS) continue;
      if (this.kill(threadId, slot, `item ran past ${deadline.ms} ms`)) deadline.timedOut = true;
    }
  }

  /** Kills thread `threadId` because of the task in `slot`; false if it is gone already. */
  private kill(threadId: number, slot: number, reason: string): boolean {
    const thread = this.pool.threads.find((t) => t.threadId === threadId);
    if (!thread) return false;
    this.noteKill(threadId, slot);
    this.notice('xyn.kernel.worker.killed', { pool: 'shard-worker', thread_id: threadId, reason });
    void thread.terminate();
    return true;
  }
}
