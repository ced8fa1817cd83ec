/**
 * What a watched plan costs (docs/ui.md, "The leaf map"): 1,000,000-shard
 * default plans on one node, in pairs — one nobody watches, then one whose
 * leaf map a page asks for every 300 ms, as the plan page does (the frame
 * encoded each time, a delta after the first). Prints each plan's shards/s
 * and, per pair, watched / unwatched, in one run on one machine.
 *
 *   npm run bench:leaf-map
 *   npm run bench:leaf-map -- --shards 200000 --pairs 2
 */
import { mkdtempSync, rmSync } from 'node:fs';
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
const shards = positiveIntArg('bench:leaf-map', '--shards', 1_000_000);
const pairs = positiveIntArg('bench:leaf-map', '--pairs', 3);
/** How often the plan page asks for a frame (src/ui/browser/plan.ts). */
const POLL_MS = 300;

const dir = mkdtempSync(join(tmpdir(), 'xyn-leaf-map-'));
const config = loadConfig({ env: { ...process.env, XYN_DATA_DIR: dir, HXO_MAX_SHARDS: String(shards), XYN_GC_INTERVAL_MS: '0' } });
const kernel = await startKernel(config, { log: createLogger('warn', 'stderr'), poolTasks: HXO_POOL_TASKS });
const engine = new HxoEngine(kernel);

/** One plan's shards/s, and — watched — the frames the page got and their bytes. */
async function runPlan(n: number, watched: boolean): Promise<{ rate: number; frames: number; bytes: number }> {
  const plan = { name: `bench-leaf-map-${n}`, constraints: { max_shards: shards }, stages: [{ id: 'hash', kind: 'compute.hash', partitioner: 'by_range', executor: 'hash', config: { total: shards, per_shard: 1, rounds: 1 } }] };
  const t0 = performance.now();
  const submitted = await engine.submit(plan, { baseDir: root, memo: false });
  let [frames, bytes, version, ended] = [0, 0, undefined as number | undefined, false];
  const poll = async (): Promise<void> => {
    while (watched && !ended) {
      const frame = (await engine.leafStates(submitted.planId)).frame(version);
      frames++;
      bytes += frame.byteLength;
      version = new DataView(frame.buffer, frame.byteOffset).getFloat64(24, true);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };
  const polling = poll();
  const report = await submitted.finished;
  ended = true;
  await polling;
  if (!report.truth_certified) throw new Error(`plan ${n} ended ${report.state}: ${report.reason}`);
  return { rate: shards / ((performance.now() - t0) / 1000), frames, bytes };
}

try {
  console.log(`pairs of ${shards.toLocaleString('en-US')}-shard compute.hash plans on one node: unwatched, then its leaf map asked for every ${POLL_MS} ms`);
  for (let p = 1; p <= pairs; p++) {
    const plain = await runPlan(2 * p - 1, false);
    const watched = await runPlan(2 * p, true);
    console.log(
      `  pair ${p}: unwatched ${Math.round(plain.rate).toLocaleString('en-US').padStart(9)} shards/s, watched ${Math.round(watched.rate).toLocaleString('en-US').padStart(9)} shards/s ` +
        `(${watched.frames} frames, ${(watched.bytes / 1024).toFixed(0)} KiB): watched / unwatched ${(watched.rate / plain.rate).toFixed(3)}`,
    );
  }
} finally {
  await kernel.stop();
  rmSync(dir, { recursive: true, force: true });
}
