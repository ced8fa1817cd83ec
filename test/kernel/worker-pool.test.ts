import { afterEach, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../src/kernel/worker-pool.ts';
import { ValidationError } from '../../src/kernel/errors.ts';
import { EXECUTORS_FIXTURE, waitFor } from './helpers.ts';

const pools: WorkerPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('shard-worker pool (Piscina)', () => {
  it('runs a batch on a thread and returns results in item order', async () => {
    const pool = new WorkerPool({ size: 2 });
    pools.push(pool);
    const items = Array.from({ length: 20 }, (_, n) => ({ n, ms: 1 }));
    const results = await pool.run<{ n: number }, number>(EXECUTORS_FIXTURE, 'slowDouble', items);
    expect(results.map((r) => (r.ok ? r.value : null))).toEqual(items.map((i) => i.n * 2));
  });

  it('returns executor errors per item, rebuilt as their class, without retrying', async () => {
    const notices: string[] = [];
    const pool = new WorkerPool({ size: 1, notice: (name) => notices.push(name) });
    pools.push(pool);
    const results = await pool.run<number, number>(EXECUTORS_FIXTURE, 'rejectOdd', [2, 3, 4]);
    expect(results[0]).toEqual({ ok: true, value: 2 });
    expect(results[1]?.ok).toBe(false);
    const error = (results[1] as { error: Error }).error;
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('n');
    expect(results[2]).toEqual({ ok: true, value: 4 });
    expect(notices).not.toContain('xyn.kernel.worker.batch_retried');
  });

  it('names a missing executor in every item error', async () => {
    const pool = new WorkerPool({ size: 1 });
    pools.push(pool);
    const results = await pool.run(EXECUTORS_FIXTURE, 'nope', [1, 2]);
    for (const r of results) expect(r.ok ? '' : r.error.message).toContain('has no executor "nope"');
  });

  it('a thread killed mid-batch is replaced and the batch still completes', async () => {
    const notices: { name: string; data: Record<string, unknown> }[] = [];
    const pool = new WorkerPool({ size: 2, notice: (name, data) => notices.push({ name, data }) });
    pools.push(pool);
    await pool.run(EXECUTORS_FIXTURE, 'slowDouble', [{ n: 0, ms: 0 }]); // warm up the module
    const items = Array.from({ length: 40 }, (_, n) => ({ n, ms: 10 }));
    const running = pool.run<{ n: number }, number>(EXECUTORS_FIXTURE, 'slowDouble', items);
    await new Promise((r) => setTimeout(r, 100));
    // Kill every thread: whichever holds the batch dies mid-way.
    await Promise.all(pool.threads.map((t) => t.terminate()));
    const results = await running;
    expect(results.map((r) => (r.ok ? r.value : null))).toEqual(items.map((i) => i.n * 2));
    expect(notices.some((n) => n.name === 'xyn.kernel.worker.batch_retried')).toBe(true);
    await waitFor(() => notices.some((n) => n.name === 'xyn.kernel.worker.replaced'), 5_000, 'replaced notice');
    expect(pool.stats().replaced_threads).toBeGreaterThanOrEqual(1);
  });
});
