/**
 * Runs every benchmark suite and prints one table (or JSON with `--json`).
 *
 *   npm run bench            # table on stdout, progress on stderr
 *   npm run bench -- --json  # machine-readable results on stdout
 *
 * BENCH_TIME_MS overrides the measured time per task (default 1000).
 */
import { availableParallelism, cpus } from 'node:os';
import { benchActors } from './actors.bench.ts';
import { benchBus } from './bus.bench.ts';
import { benchCas } from './cas.bench.ts';
import { benchEventLog } from './event-log.bench.ts';
import type { BenchRow } from './lib.ts';

const suites: [string, () => Promise<BenchRow[]>][] = [
  ['actors', benchActors],
  ['bus', benchBus],
  ['event-log', benchEventLog],
  ['cas', benchCas],
];

function formatRate(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function formatMs(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(ms < 0.01 ? 2 : 1)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

function printTable(rows: BenchRow[]): void {
  const header = ['benchmark', 'ops/s', 'unit', 'mean latency', 'p99', '±rme', 'ops/iter', 'samples', 'vs baseline'];
  const body = rows.map((r) => [
    r.name,
    formatRate(r.opsPerSec),
    r.unit,
    formatMs(r.meanMs),
    formatMs(r.p99Ms),
    `${r.rmePct.toFixed(1)}%`,
    r.opsPerIteration.toLocaleString('en-US'),
    r.samples.toLocaleString('en-US'),
    r.ratio !== undefined && r.baseline ? `${r.ratio.toFixed(r.ratio < 10 ? 3 : 1)}× ${r.baseline}` : '',
  ]);
  const numeric = new Set([1, 3, 4, 5, 6, 7]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  console.log(line(header));
  console.log(rule);
  let suite = rows[0]?.suite;
  rows.forEach((r, i) => {
    if (r.suite !== suite) {
      console.log(rule);
      suite = r.suite;
    }
    console.log(line(body[i] ?? []));
  });
  console.log('');
  console.log('mean latency / p99: per iteration (one ask, one burst, one append, one put/putMany call);');
  console.log('ops/s = ops/iter × 1000 / mean latency (ms); vs baseline = ops/s ÷ baseline ops/s.');
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const env = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    parallelism: availableParallelism(),
  };
  if (!json) console.log(`node ${env.node} · ${env.platform} · ${env.parallelism} × ${env.cpu}\n`);
  const rows: BenchRow[] = [];
  const started = performance.now();
  for (const [name, run] of suites) {
    process.stderr.write(`suite ${name}…\n`);
    rows.push(...(await run()));
  }
  const totalMs = performance.now() - started;
  if (json) {
    console.log(JSON.stringify({ env, totalMs, rows }, null, 2));
  } else {
    printTable(rows);
    console.log(`\ntotal ${formatMs(totalMs)}`);
  }
}

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
}
