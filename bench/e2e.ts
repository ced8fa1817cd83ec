/**
 * The end-to-end million-shard harness: what a user gets, against the C
 * program doing the same hot path (native-bench/hotpath.c), in one run, same
 * machine, same shard count. Each xyn row is a `xyn run` of a `compute.hash`
 * plan in its own process, timed from process start to exit (the report
 * printed), with that process's peak RSS:
 *
 * - default: the plan as a user writes it (memo on), in a fresh data dir;
 * - memo off: the same plan with `memo: false`;
 * - all reused: the default plan again under another name in the same data
 *   dir (every output reused from the first run).
 *
 * Each checks its Merkle root against the C program's (they implement the
 * same spec, byte for byte). The C program and each row run `--runs` times
 * (default 3), interleaved, with the page cache written back before each;
 * the medians are printed (this machine's run-to-run spread is ±10%).
 *
 *   npm run bench:e2e                 # 1,000,000 shards, 3 runs
 *   npm run bench:e2e -- --shards 200000 --runs 1
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlanReport } from '../src/hxo/report.ts';
import { positiveIntArg } from './lib.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const shards = positiveIntArg('bench:e2e', '--shards', 1_000_000);
const runs = positiveIntArg('bench:e2e', '--runs', 3);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

execFileSync(join(root, 'native-bench/build.sh'), { stdio: 'inherit' });
const work = mkdtempSync(join(tmpdir(), 'xyn-e2e-'));
try {
  const c = (n: number): { seconds: number; merkle_root: string } => {
    execFileSync('sync');
    return JSON.parse(execFileSync(join(root, 'native-bench/build/hotpath'), ['--shards', String(shards), '--dir', join(work, `c${n}`)], { encoding: 'utf8' })) as { seconds: number; merkle_root: string };
  };

  interface Row {
    name: string;
    seconds: number;
    peakRssMib: number;
    report: PlanReport;
  }
  /** `xyn run` of a compute.hash plan of `shards` in data dir `data`: wall time of the process, its peak RSS (reported by the probe at exit). */
  const run = (name: string, planName: string, data: string, memo: boolean): Row => {
    const file = join(work, `${planName}.json`);
    writeFileSync(file, JSON.stringify({ name: planName, constraints: { max_shards: shards }, stages: [{ id: 'hash', kind: 'compute.hash', partitioner: 'by_range', executor: 'hash', ...(memo ? {} : { memo: false }), config: { total: shards, per_shard: 1, rounds: 1 } }] }));
    // Each row starts with the page cache's writeback of the last one done.
    execFileSync('sync');
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--import', join(root, 'bench/rss-probe.mjs'), join(root, 'bin/xyn.js'), 'run', file, '--data', data, '--json'], { encoding: 'utf8', env: { ...process.env, HXO_MAX_SHARDS: String(shards) } });
    const seconds = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`xyn run (${name}) exited ${r.status}: ${r.stderr}`);
    const rss = /xyn-peak-rss-kib: (\d+)/.exec(r.stderr);
    return { name, seconds, peakRssMib: rss ? Math.round(Number(rss[1]) / 1024) : NaN, report: JSON.parse(r.stdout) as PlanReport };
  };
  const natives: { seconds: number; merkle_root: string }[] = [];
  const rows: Row[][] = [[], [], []];
  for (let n = 0; n < runs; n++) {
    natives.push(c(n));
    for (const [k, r] of [run('default (memo on), fresh', `e2e-default-${n}`, join(work, `on${n}`), true), run('memo off', `e2e-memo-off-${n}`, join(work, `off${n}`), false), run('default, all reused', `e2e-again-${n}`, join(work, `on${n}`), true)].entries()) {
      (rows[k] as Row[]).push(r);
    }
    rmSync(join(work, `c${n}`), { recursive: true, force: true });
    for (const d of [`on${n}`, `off${n}`]) rmSync(join(work, d), { recursive: true, force: true });
  }
  const cSeconds = median(natives.map((x) => x.seconds));
  const spread = (xs: number[]): string => (xs.length > 1 ? `(${xs.map((x) => x.toFixed(2)).join(', ')})` : '');
  const fmt = (name: string, seconds: number, rest: string) => `  ${name.padEnd(30)} ${seconds.toFixed(3).padStart(8)} s ${Math.round(shards / seconds).toLocaleString('en-US').padStart(10)} shards/s  ${rest}`;
  console.log(`end to end, ${shards.toLocaleString('en-US')} compute.hash shards (sha256, an LMDB checkpoint per shard, RFC 9162 root), process start to report; median of ${runs} run(s)`);
  console.log(fmt('C (liblmdb + libssl)', cSeconds, spread(natives.map((x) => x.seconds))));
  for (const series of rows) {
    const seconds = median(series.map((r) => r.seconds));
    const first = series[0] as Row;
    const same = series.every((r) => r.report.merkle_root === natives[0]?.merkle_root && r.report.truth_certified);
    if (!same) process.exitCode = 1;
    const rss = Math.max(...series.map((r) => r.peakRssMib));
    console.log(fmt(`xyn ${first.name}`, seconds, `${(seconds / cSeconds).toFixed(2)}x C, peak RSS ${rss} MiB, reused ${first.report.reused_shards.toLocaleString('en-US')}, ${same ? 'same root' : 'ROOT DIFFERS'} ${spread(series.map((r) => r.seconds))}`));
  }
  console.log('  targets: default >= 250,000 shards/s and within 3x C; memo off >= 300,000 shards/s; peak RSS < 512 MiB');
} finally {
  rmSync(work, { recursive: true, force: true });
}
