/**
 * The million-shard acceptance, as a user runs it: the built `xyn` CLI in a
 * process of its own runs blueprints/compute-hash-1m.yaml (memoization on,
 * the default) to a certified report; the root is the one the C program of
 * native-bench/ computes on its own (test/native checks that program against
 * the spec); the process's peak RSS stays under 1 GiB; `xyn verify` accepts
 * the report and rejects it with one byte changed in a proof, the root or the
 * signature.
 *
 * Peak RSS is the kernel's high-water mark (VmHWM in /proc/PID/status), read
 * every 50 ms while the run lasts: it only ever grows, so the last reading
 * misses at most the final 50 ms of a process that is writing its report.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanReport } from '../../src/hxo/report.ts';
import { tempDir } from '../kernel/helpers.ts';
import { REPO_ROOT, flipHex } from './helpers.ts';

const SHARDS = 1_000_000;
const BIN = join(REPO_ROOT, 'bin/xyn.js');
const ENV = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(XYN|HXO)_/.test(k))), XYN_WORKERS: '2' };
const GiB = 1024 ** 3;

const dir = tempDir();
afterAll(() => dir.cleanup());

/** Runs `xyn args` to its end, sampling its peak RSS. */
function runWithPeakRss(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string; peakRssBytes: number; samples: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: ENV });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    let samples = 0;
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const sample = setInterval(() => {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (hwm) {
          peak = Math.max(peak, Number(hwm[1]) * 1024);
          samples++;
        }
      } catch {
        // Gone between two samples: the exit handler has the rest.
      }
    }, 50);
    child.on('error', reject);
    child.on('close', (status) => {
      clearInterval(sample);
      resolve({ status, stdout, stderr, peakRssBytes: peak, samples });
    });
  });
}

function verify(report: unknown, name: string): { status: number | null; stdout: string; stderr: string } {
  const file = join(dir.path, name);
  writeFileSync(file, JSON.stringify(report));
  const r = spawnSync(process.execPath, [BIN, 'verify', file], { cwd: REPO_ROOT, env: ENV, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let nativeRoot: string;
let run: Awaited<ReturnType<typeof runWithPeakRss>>;
let report: PlanReport;

beforeAll(async () => {
  execFileSync(join(REPO_ROOT, 'native-bench/build.sh'), { stdio: 'inherit' });
  const out = execFileSync(join(REPO_ROOT, 'native-bench/build/hotpath'), ['--shards', String(SHARDS), '--dir', join(dir.path, 'native')], { encoding: 'utf8' });
  nativeRoot = (JSON.parse(out) as { merkle_root: string }).merkle_root;
  run = await runWithPeakRss(['run', 'blueprints/compute-hash-1m.yaml', '--data', join(dir.path, 'data'), '--json']);
  report = JSON.parse(run.stdout) as PlanReport;
}, 600_000);

describe('a 1,000,000-shard compute.hash plan through `xyn run`', () => {
  it('ends certified, every shard done once, with the root the C program computes', () => {
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(report).toMatchObject({ plan_name: 'compute-hash-1m', state: 'certified', truth_certified: true, total_shards: SHARDS, done_shards: SHARDS, failed_shards: 0 });
    expect(report.merkle_root).toBe(nativeRoot);
    expect(report.sample_proofs.every((p) => p.tree_size === SHARDS)).toBe(true);
  });

  it('stays under 1 GiB of peak RSS', () => {
    expect(run.samples).toBeGreaterThan(10);
    expect(run.peakRssBytes).toBeGreaterThan(50 * 1024 ** 2);
    expect(run.peakRssBytes).toBeLessThan(GiB);
  });

  it('xyn verify accepts the report, and rejects one byte changed in a proof, the root or the signature', () => {
    const ok = verify(report, 'report.json');
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);

    const proof = structuredClone(report);
    const step = proof.sample_proofs.find((p) => p.path.length > 0)?.path[0] as { hash: string };
    step.hash = flipHex(step.hash, 10);
    expect(verify(proof, 'proof.json').status).toBe(1);

    const root = structuredClone(report);
    root.merkle_root = flipHex(root.merkle_root as string, 0);
    expect(verify(root, 'root.json').status).toBe(1);

    const signature = structuredClone(report);
    const cert = signature.certificate as NonNullable<PlanReport['certificate']>;
    cert.signature = flipHex(cert.signature, 2);
    const bad = verify(signature, 'signature.json');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/certificate\.signature/);
  });
});
