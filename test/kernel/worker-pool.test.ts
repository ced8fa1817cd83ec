import { getPriority } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { BystanderError, TaskCancelledError, WorkerPool } from '../../src/kernel/worker-pool.ts';
import type { BatchResult, ItemsTask } from '../../src/kernel/pool-protocol.ts';
import { ValidationError } from '../../src/core/errors.ts';
import type { EchoAnswer, EchoTask } from '../fixtures/pool-tasks.ts';
import { FUNCTIONS_FIXTURE, TASKS_FIXTURE, waitFor } from './helpers.ts';

const pools: WorkerPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('worker pool (Piscina)', () => {
  it('closed right after it starts, lets its threads finish loading first (ending one while a native addon registers aborts the process)', async () => {
    const tasks = { lmdb: new URL('../fixtures/lmdb-pool-tasks.ts', import.meta.url).href };
    // Closed as soon as they are made, again and again: their threads are still loading LMDB's addon then.
    for (let i = 0; i < 20; i++) await new WorkerPool({ size: 2, tasks }).close();
    const pool = new WorkerPool({ size: 1, tasks });
    pools.push(pool);
    expect(await pool.runTask({ t: 'lmdb' }, { encode: false })).toBe('function');
  });

  it('runs a batch on a thread and returns results in item order', async () => {
    const pool = new WorkerPool({ size: 2 });
    pools.push(pool);
    const items = Array.from({ length: 20 }, (_, n) => ({ n, ms: 1 }));
    const results = await pool.run<{ n: number }, number>(FUNCTIONS_FIXTURE, 'slowDouble', items);
    expect(results.map((r) => (r.ok ? r.value : null))).toEqual(items.map((i) => i.n * 2));
  });

  it('returns errors per item, rebuilt as their class, without retrying', async () => {
    const notices: string[] = [];
    const pool = new WorkerPool({ size: 1, notice: (name) => notices.push(name) });
    pools.push(pool);
    const results = await pool.run<number, number>(FUNCTIONS_FIXTURE, 'rejectOdd', [2, 3, 4]);
    expect(results[0]).toEqual({ ok: true, value: 2 });
    expect(results[1]?.ok).toBe(false);
    const error = (results[1] as { error: Error }).error;
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('n');
    expect(results[2]).toEqual({ ok: true, value: 4 });
    expect(notices).not.toContain('xyn.kernel.worker.batch_retried');
  });

  it('names a missing function in every item error', async () => {
    const pool = new WorkerPool({ size: 1 });
    pools.push(pool);
    const results = await pool.run(FUNCTIONS_FIXTURE, 'nope', [1, 2]);
    for (const r of results) expect(r.ok ? '' : r.error.message).toContain('has no function export "nope"');
  });

  it('a thread killed mid-batch is replaced and the batch still completes', async () => {
    const notices: { name: string; data: Record<string, unknown> }[] = [];
    const pool = new WorkerPool({ size: 2, notice: (name, data) => notices.push({ name, data }) });
    pools.push(pool);
    await pool.run(FUNCTIONS_FIXTURE, 'slowDouble', [{ n: 0, ms: 0 }]); // warm up the module
    const items = Array.from({ length: 40 }, (_, n) => ({ n, ms: 10 }));
    const running = pool.run<{ n: number }, number>(FUNCTIONS_FIXTURE, 'slowDouble', items);
    await waitFor(() => (pool.info().children ?? []).some((t) => t.state === 'busy'), 5_000, 'the batch on a thread');
    // Kill every thread: whichever holds the batch dies mid-way.
    await Promise.all(pool.threads.map((t) => t.terminate()));
    const results = await running;
    expect(results.map((r) => (r.ok ? r.value : null))).toEqual(items.map((i) => i.n * 2));
    expect(notices.some((n) => n.name === 'xyn.kernel.worker.batch_retried')).toBe(true);
    await waitFor(() => notices.some((n) => n.name === 'xyn.kernel.worker.replaced'), 5_000, 'replaced notice');
    expect(pool.stats().replaced_threads).toBeGreaterThanOrEqual(1);
  });

  it('cancels a running task by killing its thread; the other task on that thread is told it was a bystander', async () => {
    const pool = new WorkerPool({ size: 1 });
    pools.push(pool);
    await pool.run(FUNCTIONS_FIXTURE, 'slowDouble', [{ n: 0, ms: 0 }]); // warm up the module
    const task = (ms: number): Omit<ItemsTask, 'slot'> => ({ t: 'items', module: FUNCTIONS_FIXTURE, export: 'slowDouble', config: {}, items: [{ n: 1, ms: 0 }, { n: 2, ms }] });
    const cancel = new AbortController();
    let slot = -1;
    // One thread runs two tasks at once: both are on it.
    const target = pool.runTask<ItemsTask>(task(10_000), { signal: cancel.signal, onSlot: (s) => (slot = s) });
    const bystander = pool.runTask<ItemsTask>(task(10_000));
    await waitFor(() => slot >= 0 && pool.board.read(slot).startedAt > 0 && pool.board.read(slot).position === 1, 5_000, 'the target on its second item');
    const t0 = Date.now();
    cancel.abort();
    const [a, b] = await Promise.allSettled([target, bystander]);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(a.status === 'rejected' && a.reason).toBeInstanceOf(TaskCancelledError);
    expect((a as PromiseRejectedResult).reason.position).toBe(1);
    expect(b.status === 'rejected' && b.reason).toBeInstanceOf(BystanderError);
    // The thread is replaced: the pool goes on.
    const after = (await pool.runTask<ItemsTask>(task(0))) as BatchResult;
    expect(after.results.map((r) => r.ok && r.v)).toEqual([2, 4]);
  });

  it('cancels a queued task without touching the one running', async () => {
    const pool = new WorkerPool({ size: 1, slots: 4 });
    pools.push(pool);
    const task = (ms: number): Omit<ItemsTask, 'slot'> => ({ t: 'items', module: FUNCTIONS_FIXTURE, export: 'slowDouble', config: {}, items: [{ n: 3, ms }] });
    const running = [pool.runTask<ItemsTask>(task(300)), pool.runTask<ItemsTask>(task(300))];
    const cancel = new AbortController();
    const queued = pool.runTask<ItemsTask>(task(300), { signal: cancel.signal });
    cancel.abort();
    await expect(queued).rejects.toMatchObject({ position: -1, code: 'TASK_CANCELLED' });
    for (const r of await Promise.all(running)) expect((r as BatchResult).results).toEqual([{ ok: true, v: 6 }]);
    expect(pool.stats().replaced_threads).toBe(0);
  });

  it('runs its threads below the main thread: nice +5 ("low"), SCHED_IDLE ("idle"), or as it is ("normal")', async () => {
    // Relative to this process's own nice value (the suite may itself run niced).
    const base = getPriority();
    const expected = { low: { nice: Math.min(19, base + 5), policy: 0 }, idle: { nice: base, policy: 5 }, normal: { nice: base, policy: 0 } } as const;
    for (const priority of ['low', 'idle', 'normal'] as const) {
      const pool = new WorkerPool({ size: 1, priority });
      pools.push(pool);
      const [result] = await pool.run<unknown, { nice: number; policy: number }>(FUNCTIONS_FIXTURE, 'schedule', [null]);
      expect(result?.ok && result.value, priority).toEqual(expected[priority]);
    }
  });

  it('runs the task types of the layers above from the modules it was given, encoded or as objects', async () => {
    const pool = new WorkerPool({ size: 1, storePath: '/the/store', tasks: { echo: TASKS_FIXTURE } });
    pools.push(pool);
    expect([pool.handles('items'), pool.handles('echo'), pool.handles('nope')]).toEqual([true, true, false]);
    const encoded = (await pool.runTask<EchoTask>({ t: 'echo', value: 'a' })) as EchoAnswer;
    expect(encoded).toEqual({ value: 'a', threadId: pool.threads[0]?.threadId, store: '/the/store' });
    // As an object, a task and its answer are cloned, not encoded: shared memory stays shared.
    const shared = new SharedArrayBuffer(8);
    const plain = (await pool.runTask<EchoTask>({ t: 'echo', value: shared }, { encode: false })) as EchoAnswer;
    expect(plain.value).toBeInstanceOf(SharedArrayBuffer);
    await expect(pool.runTask({ t: 'nope' })).rejects.toThrow('the worker pool has no handler for "nope" tasks');
  });
});
