/**
 * `xyn bench`: the end-to-end benchmark. Runs a `compute.hash` plan of N
 * shards (default 1,000,000) in a fresh data dir and prints shards/s per
 * phase (partition, execute+checkpoint, merkle, certify), the total, and the
 * peak RSS of the process (worker threads included).
 */
import type { Command } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, loadConfig } from '../../kernel/index.ts';
import type { HxoEngine } from '../../hxo/index.ts';
import { startNode } from '../../node/node.ts';
import { nonNegativeInt } from '../exit.ts';

interface BenchFlags {
  shards: number;
  rounds: number;
  json?: boolean;
  keep?: boolean;
}

export interface BenchResult {
  shards: number;
  workers: number;
  seconds: number;
  shards_per_s: number;
  merkle_root: string | null;
  certified: boolean;
  phases: Record<'partition' | 'execute_checkpoint' | 'merkle' | 'certify', { ms: number; shards_per_s: number }>;
  peak_rss_mb: number;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('end-to-end benchmark: a compute.hash plan, shards/s per phase, peak RSS')
    .option('--shards <n>', 'shards in the plan', nonNegativeInt('--shards'), 1_000_000)
    .option('--rounds <n>', 'sha256 rounds per shard', nonNegativeInt('--rounds'), 1)
    .option('--json', 'machine-readable output')
    .option('--keep', 'keep the data dir (printed) instead of deleting it')
    .action(async (flags: BenchFlags) => {
      const result = await runBench(flags.shards, Math.max(1, flags.rounds), flags.keep ?? false);
      process.stdout.write(flags.json ? JSON.stringify(result) + '\n' : render(result));
      process.exitCode = result.certified ? 0 : 1;
    });
}

export async function runBench(shards: number, rounds: number, keep: boolean): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'xyn-bench-'));
  const config = loadConfig({ env: { ...process.env, XYN_DATA_DIR: dir, HXO_MAX_SHARDS: String(Math.max(shards, 1)) } });
  const node = await startNode(config, { log: createLogger('warn', 'stderr'), engine: true });
  try {
    const engine = node.engine as HxoEngine;
    const plan = {
      name: 'bench',
      stages: [{ id: 'hash', kind: 'compute.hash', partitioner: 'by_range', executor: 'hash', memo: false, config: { total: shards, per_shard: 1, rounds } }],
    };
    const t0 = performance.now();
    const { finished } = await engine.submit(plan, { baseDir: dir });
    const report = await finished;
    const seconds = (performance.now() - t0) / 1000;
    const phase = (ms: number) => ({ ms, shards_per_s: ms > 0 ? Math.round(shards / (ms / 1000)) : 0 });
    return {
      shards,
      workers: config.XYN_WORKERS,
      seconds: Math.round(seconds * 1000) / 1000,
      shards_per_s: Math.round(shards / seconds),
      merkle_root: report.merkle_root,
      certified: report.truth_certified,
      phases: {
        partition: phase(report.timings.partition_ms),
        execute_checkpoint: phase(report.timings.execute_ms),
        merkle: phase(report.timings.merkle_ms),
        certify: phase(report.timings.certify_ms),
      },
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await node.stop();
    if (keep) process.stderr.write(`xyn: bench data kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

function render(r: BenchResult): string {
  const rows = Object.entries(r.phases).map(([name, p]) => `  ${name.padEnd(20)} ${String(p.ms).padStart(10)} ms  ${String(p.shards_per_s).padStart(12)} shards/s`);
  return [
    `xyn bench: ${r.shards} shards, ${r.workers} workers — ${r.certified ? 'certified' : 'NOT certified'}`,
    ...rows,
    `  ${'total'.padEnd(20)} ${String(Math.round(r.seconds * 1000)).padStart(10)} ms  ${String(r.shards_per_s).padStart(12)} shards/s`,
    `  peak RSS ${r.peak_rss_mb} MiB; merkle root ${r.merkle_root}`,
    '',
  ].join('\n');
}
