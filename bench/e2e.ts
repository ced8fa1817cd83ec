/**
 * The end-to-end million-shard harness: xyn's `compute.hash` plan against the
 * C program doing the same hot path (native-bench/hotpath.c), in one run, same
 * machine, same shard count. Prints both, their ratio, and checks that both
 * computed the same Merkle root (they implement the same spec, byte for byte).
 *
 *   npm run bench:e2e                 # 1,000,000 shards
 *   npm run bench:e2e -- --shards 200000
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from '../src/cli/commands/bench.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const at = process.argv.indexOf('--shards');
const shards = at > 0 ? Number(process.argv[at + 1]) : 1_000_000;
if (!Number.isInteger(shards) || shards < 1) {
  console.error(`bench:e2e: --shards must be a positive integer, got ${process.argv[at + 1]}`);
  process.exit(2);
}

execFileSync(join(root, 'native-bench/build.sh'), { stdio: 'inherit' });
const dir = mkdtempSync(join(tmpdir(), 'xyn-native-'));
let native: { seconds: number; shards_per_s: number; merkle_root: string };
try {
  const out = execFileSync(join(root, 'native-bench/build/hotpath'), ['--shards', String(shards), '--dir', dir], { encoding: 'utf8' });
  native = JSON.parse(out) as typeof native;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

let ours: BenchResult;
try {
  ours = JSON.parse(execFileSync(process.execPath, [join(root, 'bin/xyn.js'), 'bench', '--json', '--shards', String(shards)], { encoding: 'utf8' })) as BenchResult;
} catch (err) {
  // Exit code 1 means "not certified": the JSON on stdout still says what happened.
  const stdout = (err as { stdout?: string }).stdout;
  if (!stdout) throw err;
  ours = JSON.parse(stdout) as BenchResult;
}
const ratio = ours.seconds / native.seconds;
const line = (name: string, seconds: number, rate: number) => `  ${name.padEnd(28)} ${seconds.toFixed(3).padStart(9)} s ${Math.round(rate).toLocaleString('en-US').padStart(12)} shards/s`;
console.log(`end to end, ${shards.toLocaleString('en-US')} compute.hash shards (sha256, LMDB checkpoint per shard, RFC 9162 root)`);
console.log(line('C (liblmdb + libssl)', native.seconds, native.shards_per_s));
console.log(line(`xyn (${ours.workers} workers, certified)`, ours.seconds, ours.shards_per_s));
console.log(`  xyn / C time: ${ratio.toFixed(2)}x   (target: within 4x, and >= 150,000 shards/s)`);
console.log(`  xyn phases: ${Object.entries(ours.phases).map(([k, p]) => `${k} ${p.ms} ms`).join(', ')}; peak RSS ${ours.peak_rss_mb} MiB`);
console.log(`  same merkle root: ${native.merkle_root === ours.merkle_root ? 'yes' : `NO (C ${native.merkle_root}, xyn ${ours.merkle_root})`}`);
if (native.merkle_root !== ours.merkle_root) process.exitCode = 1;
