/**
 * A node that lives: ten 1,000,000-shard default plans (memo on; each with
 * shards new to the node, so none is a reuse run) one after another on one
 * node and one data dir, then the node restarted and one more. Prints each
 * plan's shards/s (execute phase and whole plan), the store file's size, and
 * the tenth plan against the first (target: within 10%).
 *
 *   npm run bench:plans
 *   npm run bench:plans -- --shards 200000 --plans 5
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/kernel/config.ts';
import { createLogger } from '../src/kernel/log.ts';
import { startKernel } from '../src/kernel/kernel.ts';
import { HxoEngine } from '../src/hxo/engine.ts';
import { HXO_POOL_TASKS } from '../src/hxo/pool-tasks.ts';
import { positiveIntArg } from './lib.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const shards = positiveIntArg('bench:plans', '--shards', 1_000_000);
const plans = positiveIntArg('bench:plans', '--plans', 10);

const dir = mkdtempSync(join(tmpdir(), 'xyn-plans-'));
const config = loadConfig({ env: { ...process.env, XYN_DATA_DIR: dir, HXO_MAX_SHARDS: String(shards), XYN_GC_INTERVAL_MS: '0' } });

async function runPlans(from: number, count: number): Promise<{ n: number; total: number; execute: number; storeMib: number }[]> {
  const kernel = await startKernel(config, { log: createLogger('warn', 'stderr'), poolTasks: HXO_POOL_TASKS });
  const engine = new HxoEngine(kernel);
  const out = [];
  try {
    for (let n = from; n < from + count; n++) {
      const plan = { name: `bench-plans-${n}`, constraints: { max_shards: shards }, stages: [{ id: 'hash', kind: 'compute.hash', partitioner: 'by_range', executor: 'hash', config: { total: shards, per_shard: 1, rounds: 1 } }] };
      // memo: false for the run (not the plan): its shards are new to the node, as a first run's are.
      const t0 = performance.now();
      const report = await (await engine.submit(plan, { baseDir: root, memo: false })).finished;
      const total = (performance.now() - t0) / 1000;
      if (!report.truth_certified) throw new Error(`plan ${n} ended ${report.state}: ${report.reason}`);
      out.push({ n, total: shards / total, execute: shards / (report.timings.execute_ms / 1000), storeMib: statSync(join(config.storePath, 'data.mdb')).size / 1024 ** 2 });
    }
  } finally {
    await kernel.stop();
  }
  return out;
}

try {
  const rows = [...(await runPlans(1, plans)), ...(await runPlans(plans + 1, 1))];
  console.log(`${plans} default plans of ${shards.toLocaleString('en-US')} compute.hash shards on one node, then a restart and one more`);
  for (const r of rows) {
    console.log(`  plan ${String(r.n).padStart(2)}${r.n === plans + 1 ? ' (after a restart)' : '                  '} ${Math.round(r.total).toLocaleString('en-US').padStart(9)} shards/s (execute ${Math.round(r.execute).toLocaleString('en-US').padStart(9)}/s), store ${r.storeMib.toFixed(0)} MiB`);
  }
  const [first, last] = [rows[0], rows[plans - 1]];
  if (first && last) console.log(`  plan ${plans} / plan 1: ${(last.total / first.total).toFixed(3)} (target: within 10%, >= 0.900)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
