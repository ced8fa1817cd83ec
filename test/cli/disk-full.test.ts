/**
 * A full disk under a 100,000-shard plan, on a real tmpfs mounted small by
 * the test (the machine's tests run as root): `xyn run` stops with one line
 * and the same command finishes the plan once there is room; `xyn serve`
 * pauses its plan with an `hxo.alert`, stays responsive (health answers,
 * SIGTERM stops it), and goes on by itself when space comes back. No shard
 * fails because the store was full, and the root is the one the spec gives.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { PlanReport, PlanStatus } from '../../src/hxo/report.ts';
import { tempDir, waitFor } from '../kernel/helpers.ts';
import { startServe, xynSync, type Serving } from '../helpers/cli.ts';
import { computeHashPlan, specComputeHashRoot } from '../hxo/helpers.ts';

const SHARDS = 100_000;
/** Half of it is the node's 8 MiB space reserve: the plan fills the rest about halfway through. */
const SMALL = '16m';
const ROOMY = '96m';
const plan = computeHashPlan('disk-full-100k', SHARDS);
const env = { XYN_STORE_SPACE_PROBE_MS: '50', XYN_AUTH: 'open' };

const dir = tempDir();
const planFile = join(dir.path, 'plan.yaml');
let expectedRoot: string;
const mounts: string[] = [];

/** A tmpfs of `size` mounted for this test; its mount point. */
function smallDisk(size: string): string {
  const at = join(dir.path, `disk-${mounts.length}`);
  mkdirSync(at);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', at]);
  mounts.push(at);
  return at;
}

const grow = (at: string, size: string) => execFileSync('mount', ['-o', `remount,size=${size}`, at]);

beforeAll(() => {
  writeFileSync(planFile, stringify(plan));
  expectedRoot = specComputeHashRoot(SHARDS);
}, 60_000);

afterAll(() => {
  for (const at of mounts) execFileSync('umount', ['-l', at]);
  dir.cleanup();
});

describe('xyn run on a disk that fills', () => {
  it('stops with one line (exit 1); once there is room the same command finishes the plan with the right root and no failed shard', () => {
    const data = join(smallDisk(SMALL), 'data');
    const full = xynSync(['run', planFile, '--data', data, '--json'], env);
    expect(full.status).toBe(1);
    expect(full.stdout).toBe('');
    // xyn says one line. LMDB's C code may print its own first when a page spill hits the full disk
    // (`mdb_page_spill error 5`, straight to the process's stderr, out of xyn's hands): only those may come before it.
    const lines = full.stderr.trimEnd().split('\n').filter((line) => !/^mdb_\w+ (flushing )?error \d+$/.test(line));
    expect(lines, full.stderr).toHaveLength(1);
    const said = /^xyn: storage full at (\S+): plan (\S+) stopped with (\d+) of 100000 shards done and about ([\d.]+) MiB more needed \([\d.]+ MiB free\); free space on that file system and run the same command again/.exec(lines[0] as string);
    expect(said, lines[0]).not.toBeNull();
    const [, path, , done, needed] = said as RegExpExecArray;
    expect(path).toBe(join(data, 'store'));
    expect(Number(done)).toBeGreaterThan(0);
    expect(Number(done)).toBeLessThan(SHARDS);
    expect(Number(needed)).toBeGreaterThan(0);

    grow(join(data, '..'), ROOMY);
    const again = xynSync(['run', planFile, '--data', data, '--json'], env);
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
    const report = JSON.parse(again.stdout) as PlanReport;
    expect(report).toMatchObject({ state: 'certified', truth_certified: true, total_shards: SHARDS, done_shards: SHARDS, failed_shards: 0, merkle_root: expectedRoot });
    // Nothing to replay: no shard was ever recorded as failed.
    const replay = xynSync(['replay', report.plan_id, '--failed', '--data', data], env);
    expect(replay.stdout + replay.stderr).toMatch(/nothing to replay/);
  }, 120_000);
});

describe('xyn serve on a disk that fills', () => {
  let node: Serving | undefined;
  afterEach(async () => {
    await node?.stop();
    node = undefined;
  });

  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${(node as Serving).url}${path}`);
    return { status: res.status, body: (await res.json()) as T };
  };

  async function submit(): Promise<string> {
    const res = await fetch(`${(node as Serving).url}/api/hxo/create-and-submit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(plan) });
    expect(res.status).toBe(202);
    return ((await res.json()) as { plan_id: string }).plan_id;
  }

  const status = async (id: string) => (await get<PlanStatus>(`/api/hxo/status/${id}`)).body;

  async function alerts(id: string): Promise<string[]> {
    const { body } = await get<{ items: { data: { plan_id: string; alert_type: string } }[] }>('/api/genesis/events?topic=hxo.alert&limit=1000');
    return body.items.filter((e) => e.data.plan_id === id).map((e) => e.data.alert_type);
  }

  /** The plan's report, once it has one. */
  async function reportOf(id: string): Promise<PlanReport> {
    let report: PlanReport | undefined;
    await waitFor(async () => {
      const r = await get<PlanReport>(`/api/hxo/report/${id}`);
      if (r.status === 200) report = r.body;
      return report !== undefined;
    }, 60_000, 'the report');
    return report as PlanReport;
  }

  /** While the plan is paused: the node answers health, and says why it is paused. */
  async function expectPausedAndResponsive(id: string): Promise<void> {
    await waitFor(async () => (await status(id)).paused !== undefined, 60_000, 'the plan to pause');
    // The alert is an event like any other: durable (in the space the reserve gave back), then delivered.
    await waitFor(async () => (await alerts(id)).includes('storage_full'), 10_000, 'the storage_full alert');
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      expect((await get<{ status: string }>('/api/v1/health')).body.status).toBe('ok');
      expect(performance.now() - t0).toBeLessThan(1000);
    }
    // An event sent meanwhile is refused at once, saying why (the bus would hold it until there is room).
    const emitted = await fetch(`${(node as Serving).url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ event_name: 'app.tick', data: {} }), signal: AbortSignal.timeout(5_000) });
    expect(emitted.status).toBe(503);
    expect(((await emitted.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'storage_full', message: expect.stringMatching(/store at .* is full/) });
    const s = await status(id);
    expect(s).toMatchObject({ state: 'running', failed_shards: 0, eta_seconds: null });
    expect(s.paused).toMatch(/^storage full at /);
    expect(s.done_shards).toBeLessThan(SHARDS);
  }

  it('pauses its plan with an hxo.alert, stays responsive, and goes on by itself when space comes back: right root, no failed shard, few log lines', async () => {
    const disk = smallDisk(SMALL);
    node = await startServe(join(disk, 'data'), 0, env);
    const id = await submit();
    await expectPausedAndResponsive(id);

    grow(disk, ROOMY);
    const report = await reportOf(id);
    expect(report).toMatchObject({ state: 'certified', truth_certified: true, done_shards: SHARDS, failed_shards: 0, merkle_root: expectedRoot });
    expect(await alerts(id)).toEqual(['storage_full', 'storage_available']);
    // One line per condition, not one per refused write.
    expect(node.stderr().trimEnd().split('\n').length).toBeLessThan(5);
    // ... on stdout too: the log says it is full, and has room again.
    const warnings = node.logs().split('\n').filter((l) => /"level":(40|50|60)/.test(l));
    expect(warnings.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([expect.stringMatching(/^storage full at /), expect.stringMatching(/ has room again/)]);
  }, 120_000);

  it('stops on SIGTERM while its plan is paused; started again with room, it finishes the plan', async () => {
    const disk = smallDisk(SMALL);
    const data = join(disk, 'data');
    node = await startServe(data, 0, { ...env, XYN_LOG_LEVEL: 'info' });
    const id = await submit();
    await expectPausedAndResponsive(id);
    const stopping = node;
    node = undefined;
    expect(await stopping.stop()).toBe(0);
    // A plan the stop left unfinished is said as such, not as an error.
    expect(stopping.logs()).toMatch(/plan left unfinished: the node stopped/);
    expect(stopping.logs()).not.toMatch(/ended in error/);

    grow(disk, ROOMY);
    node = await startServe(data, 0, env);
    const report = await reportOf(id);
    expect(report).toMatchObject({ state: 'certified', truth_certified: true, done_shards: SHARDS, failed_shards: 0, merkle_root: expectedRoot });
  }, 120_000);
});
