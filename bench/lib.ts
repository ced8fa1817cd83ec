/**
 * Shared plumbing for the benchmarks: run tinybench tasks with a small time
 * budget and turn each task's result into a row in the unit that matters.
 *
 * Throughput is computed from the *mean latency* of an iteration
 * (opsPerIteration × 1000 / meanMs), i.e. total work over total time. This is
 * deliberately not tinybench's `throughput.mean` (the mean of per-sample rates),
 * which over-weights the fastest samples.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench, type BenchOptions } from 'tinybench';

export type Unit = 'msgs/s' | 'events/s' | 'puts/s';

export interface BenchRow {
  suite: string;
  name: string;
  unit: Unit;
  /** Operations (messages, events, puts) done by one iteration of the task. */
  opsPerIteration: number;
  /** Operations per second: opsPerIteration × 1000 / meanMs. */
  opsPerSec: number;
  /** Mean latency of one iteration, in milliseconds. */
  meanMs: number;
  /** 99th percentile latency of one iteration, in milliseconds. */
  p99Ms: number;
  /** Relative margin of error of the mean latency, in percent. */
  rmePct: number;
  /** Measured iterations (samples). */
  samples: number;
  /** Name of the row in the same suite this one is compared with. */
  baseline?: string;
  /** opsPerSec / baseline's opsPerSec. */
  ratio?: number;
}

type Hook = () => void | Promise<void>;

export interface TaskSpec {
  name: string;
  unit: Unit;
  opsPerIteration: number;
  /** One iteration; only this is timed. */
  fn: () => Promise<unknown>;
  /** Untimed preparation before each iteration (e.g. building the next batch). */
  beforeEach?: Hook;
  /** Runs before the warmup phase and again before the measured phase. */
  beforeAll?: Hook;
  /** Runs after the warmup phase and again after the measured phase. */
  afterAll?: Hook;
  baseline?: string;
}

const timeMs = Number(process.env.BENCH_TIME_MS ?? 1000);

/** Small budget per task: ~1 s measured, ~0.2 s warmup, a few iterations at least. */
export const DEFAULT_OPTIONS: BenchOptions = {
  time: Number.isFinite(timeMs) && timeMs > 0 ? timeMs : 1000,
  iterations: 5,
  warmupTime: 200,
  warmupIterations: 3,
  throws: true,
};

export async function runSuite(suite: string, specs: TaskSpec[], options: BenchOptions = {}): Promise<BenchRow[]> {
  const bench = new Bench({ ...DEFAULT_OPTIONS, ...options, name: suite });
  for (const spec of specs) {
    bench.add(spec.name, spec.fn, {
      ...(spec.beforeEach ? { beforeEach: spec.beforeEach } : {}),
      ...(spec.beforeAll ? { beforeAll: spec.beforeAll } : {}),
      ...(spec.afterAll ? { afterAll: spec.afterAll } : {}),
    });
  }
  bench.addEventListener('cycle', (e) => {
    if (e.task) process.stderr.write(`  done: ${suite} / ${e.task.name}\n`);
  });
  await bench.run();

  const rows: BenchRow[] = specs.map((spec) => {
    const task = bench.getTask(spec.name);
    const result = task?.result;
    if (!result) throw new Error(`${suite} / ${spec.name}: no result`);
    if (result.error) throw new Error(`${suite} / ${spec.name} failed: ${result.error.message}`, { cause: result.error });
    const meanMs = result.latency.mean;
    return {
      suite,
      name: spec.name,
      unit: spec.unit,
      opsPerIteration: spec.opsPerIteration,
      opsPerSec: (spec.opsPerIteration * 1000) / meanMs,
      meanMs,
      p99Ms: result.latency.p99 ?? result.latency.max,
      rmePct: result.latency.rme,
      samples: result.latency.samples.length,
      ...(spec.baseline ? { baseline: spec.baseline } : {}),
    };
  });
  for (const row of rows) {
    if (!row.baseline) continue;
    const base = rows.find((r) => r.name === row.baseline);
    if (!base) throw new Error(`${suite} / ${row.name}: unknown baseline "${row.baseline}"`);
    row.ratio = row.opsPerSec / base.opsPerSec;
  }
  return rows;
}

/** A fresh temporary directory, and a function that removes it. */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `xyn-bench-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A positive integer flag (`--shards 200000`) of a bench script, or its default; anything else exits 2 naming it. */
export function positiveIntArg(bench: string, name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const n = at > 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${bench}: ${name} must be a positive integer, got ${process.argv[at + 1]}`);
    process.exit(2);
  }
  return n;
}
