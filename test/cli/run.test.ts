/**
 * `xyn run`, `xyn verify`, `xyn status`, `xyn report` from source, as a user
 * runs them: exit codes (0 certified / ok, 1 rejected, 2 bad input), the
 * report on stdout, one line on stderr naming what is wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlanReport, PlanStatus } from '../../src/hxo/report.ts';
import { planIdFor, planDigest, checkPlanShape, readPlanFile } from '../../src/hxo/plan/plan.ts';
import { tempDir } from '../kernel/helpers.ts';
import { xynSync } from '../helpers/cli.ts';
import { REPO_ROOT, flipHex, specComputeHashRoot } from '../hxo/helpers.ts';
import { openStore } from '../../src/store/env.ts';
import { BlockKeys, checkpointDb, decodeCheckpoint, readCheckpoint, writeCheckpoints } from '../../src/hxo/checkpoints/checkpoint-records.ts';

const BLUEPRINT = 'blueprints/compute-hash-1k.yaml';
const xyn = (args: string[]) => xynSync(args);

const dir = tempDir();
const data = join(dir.path, 'data');
const reportFile = join(dir.path, 'report.json');
let report: PlanReport;

beforeAll(() => {
  const r = xyn(['run', BLUEPRINT, '--data', data, '--json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  report = JSON.parse(r.stdout) as PlanReport;
  writeFileSync(reportFile, r.stdout);
}, 60_000);
afterAll(() => dir.cleanup());

describe('xyn run', () => {
  it('runs the 1k blueprint to a certified report on stdout (--json) and exits 0', () => {
    expect(report).toMatchObject({ plan_name: 'compute-hash-1k', state: 'certified', truth_certified: true, total_shards: 1000, done_shards: 1000, failed_shards: 0 });
    // The plan id is the one the digest of the plan and its executor's identity gives, so the same file resumes.
    expect(report.plan_id).toBe(planIdFor(planDigest(checkPlanShape(readPlanFile(join(REPO_ROOT, BLUEPRINT))), [{ executor: 'builtin:compute.hash/hash@1' }])));
    expect(report.merkle_root).toBe(specComputeHashRoot(1000));
    expect(report.sample_proofs.length).toBeGreaterThanOrEqual(16);
  });

  it('run again against the same data dir gives the same report; without --json, a summary', () => {
    const again = xyn(['run', BLUEPRINT, '--data', data]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`plan compute-hash-1k (${report.plan_id}): certified`);
    expect(again.stdout).toContain(`merkle root: ${report.merkle_root}`);
    expect(again.stdout).toMatch(/shards: 1000 total, 1000 done, 0 failed/);
  });

  it('a bad plan exits 2 with one line naming the field, and writes nothing', () => {
    const bad = join(dir.path, 'bad.yaml');
    writeFileSync(bad, 'name: bad\nstages:\n  - id: a\n    kind: compute.nope\n    config: {total: 5}\n');
    const badData = join(dir.path, 'bad-data');
    const r = xyn(['run', bad, '--data', badData]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^xyn: stages\[0\]\.kind: unknown job kind "compute\.nope"/);
    // Refused before anything started: the data dir was not even created.
    expect(existsSync(badData)).toBe(false);

    const yaml = join(dir.path, 'broken.yaml');
    writeFileSync(yaml, 'name: [broken\n');
    const y = xyn(['run', yaml, '--data', badData]);
    expect(y.status).toBe(2);
    expect(y.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(y.stderr).toMatch(/^xyn: file: not valid YAML/);

    const missing = xyn(['run', join(dir.path, 'nope.yaml'), '--data', badData]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^xyn: file: cannot read .*nope\.yaml: ENOENT\n$/);
  });
});

describe('xyn verify', () => {
  it('accepts the report: exit 0', () => {
    const r = xyn(['verify', reportFile]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`ok: signature valid, ${report.sample_proofs.length} proofs lead to the certified root\n`);
    // Pinning the signer: the right key passes, another one is refused.
    expect(xyn(['verify', reportFile, '--public-key', report.certificate?.public_key as string]).status).toBe(0);
    const other = xyn(['verify', reportFile, '--public-key', flipHex(report.certificate?.public_key as string)]);
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/certificate\.public_key: signed by/);
  });

  it('rejects a tampered copy: exit 1, naming the problem', () => {
    const sig = structuredClone(report);
    (sig.certificate as NonNullable<PlanReport['certificate']>).signature = flipHex((sig.certificate as NonNullable<PlanReport['certificate']>).signature, 40);
    const sigFile = join(dir.path, 'tampered-signature.json');
    writeFileSync(sigFile, JSON.stringify(sig, null, 2));
    const r = xyn(['verify', sigFile]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('rejected: 1 problem(s)\n');
    expect(r.stderr).toMatch(/^xyn: certificate\.signature: not a valid signature/);

    const proof = structuredClone(report);
    const at = proof.sample_proofs.findIndex((p) => p.path.length > 0);
    const step = proof.sample_proofs[at]?.path.at(-1) as { hash: string };
    step.hash = flipHex(step.hash, 63);
    const proofFile = join(dir.path, 'tampered-proof.json');
    writeFileSync(proofFile, JSON.stringify(proof));
    const p = xyn(['verify', proofFile]);
    expect(p.status).toBe(1);
    const n = report.sample_proofs.length;
    expect(p.stderr).toBe(`xyn: 1 of ${n} sample proofs does not verify against merkle_root (first: sample_proofs[${at}]: path does not lead to merkle_root)\n`);
    expect(p.stdout).toBe('rejected: 1 problem(s)\n');
  });

  it('one changed digit of the root: the root check, then the proofs as one count (exit 1); --verbose and --json list each', () => {
    const tampered = structuredClone(report);
    tampered.merkle_root = flipHex(tampered.merkle_root as string, 17);
    const file = join(dir.path, 'tampered-root.json');
    writeFileSync(file, JSON.stringify(tampered));
    const n = report.sample_proofs.length;
    const r = xyn(['verify', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'xyn: certificate.merkle_root: differs from merkle_root\n' +
        `xyn: ${n} of ${n} sample proofs do not verify against merkle_root (first: sample_proofs[0]: root_hash differs from merkle_root; path does not lead to merkle_root)\n`,
    );
    expect(r.stdout).toBe(`rejected: 2 problem(s) (--verbose lists all ${1 + 2 * n} failures)\n`);

    const verbose = xyn(['verify', file, '--verbose']);
    expect(verbose.status).toBe(1);
    const lines = verbose.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 2 * n);
    expect(lines.at(-1)).toBe(`xyn: sample_proofs[${n - 1}]: path does not lead to merkle_root`);

    const json = xyn(['verify', file, '--json']);
    expect(json.status).toBe(1);
    expect(json.stderr).toBe('');
    const result = JSON.parse(json.stdout) as { ok: boolean; checked: { signature: boolean; proofs: number }; errors: string[]; summary: string[] };
    expect(result).toMatchObject({ ok: false, checked: { signature: true, proofs: 0 } });
    expect(result.errors).toEqual(lines.map((l) => l.slice('xyn: '.length)));
    expect(result.summary).toHaveLength(2);
  });

  it('a file that is not JSON exits 2', () => {
    const junk = join(dir.path, 'junk.json');
    writeFileSync(junk, 'plan_id: not json\n');
    const r = xyn(['verify', junk]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/junk\.json: cannot read a JSON report/);
    expect(xyn(['verify', join(dir.path, 'missing.json')]).status).toBe(2);
  });
});

describe('xyn status and xyn report', () => {
  it('read the finished plan from the same data dir', () => {
    const s = xyn(['status', report.plan_id, '--data', data, '--json']);
    expect(s.status).toBe(0);
    const status = JSON.parse(s.stdout) as PlanStatus;
    expect(status).toMatchObject({
      plan_id: report.plan_id,
      plan_name: 'compute-hash-1k',
      state: 'certified',
      total_shards: 1000,
      done_shards: 1000,
      pending_shards: 0,
      failed_shards: 0,
      merkle_root: report.merkle_root,
      truth_certified: true,
    });

    const r = xyn(['report', report.plan_id, '--data', data, '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(report);
    expect(JSON.parse(readFileSync(reportFile, 'utf8'))).toEqual(report);
  });

  it('status without --json: a summary of the same status', () => {
    const s = xyn(['status', report.plan_id, '--data', data]);
    expect(s.stderr).toBe('');
    expect(s.status).toBe(0);
    expect(s.stdout.split('\n').slice(0, 4)).toEqual([
      `plan compute-hash-1k (${report.plan_id}): certified`,
      '  shards: 1000 total, 1000 done, 0 failed, 0 reused, 0 running, 0 pending',
      `  merkle root: ${report.merkle_root}`,
      '  certified: yes',
    ]);
    expect(s.stdout).toMatch(/^ {2}started \S+, finished \S+\n$/m);
  });

  it('status --help says where it reads when no node is named: the data dir, not a default URL', () => {
    const help = xyn(['status', '--help']).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--data <dir> data directory (XYN_DATA_DIR, default ./.xyn)');
    expect(help).toContain('--url <url> ask the node at this URL (or XYN_URL) instead of reading the data dir');
    expect(help).toContain('--token <token> API token (XYN_TOKEN); given without a URL, asks the node at http://XYN_HOST:XYN_PORT, by default http://127.0.0.1:8000');
    expect(help).toContain('--json print the status as JSON');
    // What it says is what it does: without --url it reads the data dir (above, with no node anywhere); --token alone asks XYN_HOST:XYN_PORT.
    const asked = xynSync(['status', report.plan_id, '--token', 'xyn_x'], { XYN_PORT: '1' });
    expect(asked.status).toBe(1);
    expect(asked.stderr).toMatch(/^xyn: no answer from a node at http:\/\/127\.0\.0\.1:1: .*\n$/);
  });

  it('an unknown plan id exits 2', () => {
    const r = xyn(['report', 'no-such-plan', '--data', data, '--json']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('xyn: no plan no-such-plan in this data directory\n');
    const s = xyn(['status', 'no-such-plan', '--data', data]);
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(/no plan no-such-plan/);
  });
});

describe('xyn replay', () => {
  it('with nothing wrong: nothing to replay, the same report, exit 0', () => {
    const r = xyn(['replay', report.plan_id, '--data', data, '--json']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('xyn: nothing to replay\n');
    expect(JSON.parse(r.stdout)).toEqual(report);
  });

  it('finds a corrupted stored output by bisection, replays its shard and certifies the same root', async () => {
    const store = openStore({ path: join(data, 'store') });
    const db = checkpointDb(store);
    const stored = readCheckpoint(db, report.plan_id, 0, 321) as Uint8Array;
    const out = decodeCheckpoint(stored).o as Uint8Array;
    const bad = Buffer.from(stored);
    bad[bad.length - out.length + 5] = (bad[bad.length - out.length + 5] as number) ^ 1;
    await store.write(() => writeCheckpoints(db, new BlockKeys(report.plan_id, 0), [321], [bad]));
    await store.close();

    const r = xyn(['replay', report.plan_id, '--data', data, '--json']);
    expect(r.stderr).toBe('xyn: replaying 1 shard(s)\n');
    expect(r.status).toBe(0);
    const replayed = JSON.parse(r.stdout) as PlanReport;
    expect(replayed).toMatchObject({ state: 'certified', merkle_root: report.merkle_root, done_shards: 1000 });
    expect(replayed.replayed?.map((x) => x.leaf_index)).toEqual([321]);
  });

  it('refuses bad selections with exit 2, naming the flag', () => {
    for (const [args, message] of [
      [['--subtree', '9..5'], /^xyn: subtree: 9\.\.5 is not a range of leaves/],
      [['--subtree', 'x'], /--subtree must be FROM\.\.TO/],
      [['--failed', '--subtree', '1..2'], /--failed and --subtree cannot be combined/],
    ] as const) {
      const r = xyn(['replay', report.plan_id, '--data', data, ...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
    }
    const unknown = xyn(['replay', 'no-such-plan', '--data', data]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/no plan no-such-plan/);
  });
});
