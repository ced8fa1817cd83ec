/**
 * How long a resumed plan takes to get going: a `compute.hash` plan of
 * `--shards` (default 1,000,000) run by `xyn run` is SIGKILLed once about
 * `--at` percent (default 50) of its shards are checkpointed; then the same
 * command is started again (it resumes the plan) and timed from process
 * start to the first shard it runs — seen as the checkpoint of the lowest
 * pending shard (the first batch it dispatches holds it) appearing in the
 * store. The same is timed for a fresh data dir (process start, boot and
 * an empty plan's setup: the floor). Each resume is killed as soon as it is
 * seen, so the plan is resumed `--runs` times (default 3) from nearly the
 * same place; medians are printed.
 *
 *   npm run -s build && npx tsx bench/resume.ts
 *   npx tsx bench/resume.ts --shards 200000 --runs 1 --at 30
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { openStore, type Store } from '../src/store/env.ts';
import { checkpointDb, forEachBlockRecord, parseBlockKey, readCheckpoint, BLOCK_SHARDS, type CheckpointDb } from '../src/hxo/checkpoints/checkpoint-records.ts';
import { positiveIntArg } from './lib.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const shards = positiveIntArg('bench:resume', '--shards', 1_000_000);
const runs = positiveIntArg('bench:resume', '--runs', 3);
const at = positiveIntArg('bench:resume', '--at', 50);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const work = mkdtempSync(join(tmpdir(), 'xyn-resume-'));

const planFile = join(work, 'plan.json');
writeFileSync(planFile, JSON.stringify({ name: 'bench-resume', constraints: { max_shards: shards }, stages: [{ id: 'hash', kind: 'compute.hash', partitioner: 'by_range', executor: 'hash', config: { total: shards, per_shard: 1, rounds: 1 } }] }));

function xynRun(data: string): { child: ChildProcess; exited: Promise<void> } {
  const child = spawn(process.execPath, [join(root, 'bin/xyn.js'), 'run', planFile, '--data', data, '--json'], { stdio: 'ignore', env: { ...process.env, HXO_MAX_SHARDS: String(shards) } });
  return { child, exited: new Promise((resolve) => child.once('exit', () => resolve())) };
}

/** The store of a data dir, opened once it exists (a reader beside the writer). */
async function storeOf(data: string, child: ChildProcess): Promise<{ store: Store; db: CheckpointDb }> {
  const path = join(data, 'store');
  while (!existsSync(join(path, 'data.mdb'))) {
    if (child.exitCode !== null) throw new Error('xyn run exited before it made a store');
    await sleep(1);
  }
  const store = openStore({ path });
  return { store, db: checkpointDb(store) };
}

/** The lowest shard without a checkpoint (the first one a resumed run dispatches), and how many have one. */
function lowestPending(db: CheckpointDb): { shard: number; planId: string; count: number } {
  let expected = 0;
  let lowest = -1;
  let count = 0;
  let planId = '';
  for (const { key, value } of db.getRange({})) {
    const block = parseBlockKey(key);
    planId = block.planId;
    forEachBlockRecord(value, (k) => {
      count++;
      if (lowest < 0 && block.first + k !== expected) lowest = expected;
      expected = block.first + k + 1;
    });
  }
  return { shard: lowest < 0 ? expected : lowest, planId, count };
}

/** Starts `xyn run` in `data` and resolves ms from spawn to shard `shard`'s checkpoint appearing (then kills it). */
async function timeToShard(data: string, planId: string | undefined, shard: number): Promise<number> {
  const t0 = performance.now();
  const { child, exited } = xynRun(data);
  const { store, db } = await storeOf(data, child);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error('xyn run exited before it ran a shard');
      const id = planId ?? [...db.getKeys({ limit: 1 })].map((k) => parseBlockKey(k).planId)[0];
      if (id !== undefined && readCheckpoint(db, id, 0, shard)) return performance.now() - t0;
      await sleep(1);
    }
  } finally {
    child.kill('SIGKILL');
    await exited;
    await store.close();
  }
}

try {
  const fresh: number[] = [];
  for (let n = 0; n < runs; n++) {
    const data = join(work, `fresh${n}`);
    fresh.push(await timeToShard(data, undefined, 0));
    rmSync(data, { recursive: true, force: true });
  }

  // Interrupt the plan at about `at` percent.
  const data = join(work, 'data');
  const { child, exited } = xynRun(data);
  const { store, db } = await storeOf(data, child);
  const target = Math.floor((shards * at) / 100 / BLOCK_SHARDS);
  while ((db.getStats() as { entryCount: number }).entryCount < target) {
    if (child.exitCode !== null) throw new Error('xyn run ended before it was interrupted: use more --shards');
    await sleep(5);
  }
  child.kill('SIGKILL');
  await exited;
  const resumed: number[] = [];
  let done = 0;
  for (let n = 0; n < runs; n++) {
    const pending = lowestPending(db);
    done = pending.count;
    resumed.push(await timeToShard(data, pending.planId, pending.shard));
  }
  await store.close();

  const spread = (xs: number[]): string => (xs.length > 1 ? ` (${xs.map((x) => x.toFixed(0)).join(', ')})` : '');
  console.log(`start to first shard run, ${shards.toLocaleString('en-US')}-shard compute.hash plan; median of ${runs} run(s)`);
  console.log(`  fresh plan:                          ${median(fresh).toFixed(0).padStart(6)} ms${spread(fresh)}`);
  console.log(`  resumed, ${done.toLocaleString('en-US').padStart(9)} shards checkpointed: ${median(resumed).toFixed(0).padStart(6)} ms${spread(resumed)}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
