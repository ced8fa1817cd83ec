/**
 * The API benchmark (issue 5), everything in one run on loopback, bounded:
 *
 * 1. GET /api/v1/health and GET /api/hxo/status/{id}: requests/s and p50/p99
 *    latency, served by xyn's uWebSockets.js server and — the baseline — by
 *    node:http running the same router and handlers (autocannon, its own
 *    process, 16 connections, 5 s each).
 * 2. A 1,000,000-shard default compute.hash plan alone, then again while autocannon
 *    asks for its status at a fixed 500 requests/s, five rounds: the plan's
 *    shards/s both ways (the drop, per round: the machine drifts between
 *    rounds more than within one) and the API's p50/p99 while the plan runs
 *    (p99 also corrected for coordinated omission: bench/api/load.ts), as
 *    medians, next to the same load with no plan running — on a node whose
 *    shard threads run at the default priority (idle), then at low.
 * 3. Events/s delivered to 1, 10 and 100 WebSocket subscribers (their own
 *    process): 20,000 events published, timed until every client has all.
 *
 *   npm run bench:api
 *   npm run bench:api -- --shards 200000
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/kernel/config.ts';
import { createLogger } from '../src/kernel/log.ts';
import { startKernel } from '../src/kernel/kernel.ts';
import { HxoEngine } from '../src/hxo/engine.ts';
import { HXO_POOL_TASKS } from '../src/hxo/pool-tasks.ts';
import type { PlanReport } from '../src/hxo/report.ts';
import { startApiServer } from '../src/api/server.ts';
import { Router } from '../src/api/router.ts';
import { TokenStore, roleCapabilities } from '../src/api/auth.ts';
import { ApiError } from '../src/api/errors.ts';
import { startNodeHttp } from './api/node-http.ts';
import { CLIENT_NICE, cannon, linesOf, type Cannon } from './api/cannon.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const at = process.argv.indexOf('--shards');
const shards = at > 0 ? Number(process.argv[at + 1]) : 1_000_000;

/**
 * The default plan (memo on, as users write it). Each is submitted with the
 * memo off for its run (`xyn run --no-memo`): its shards are new to the node,
 * as a first run's are, instead of all reused from the round before.
 */
function plan(name: string, total = shards): Record<string, unknown> {
  return { name, constraints: { max_shards: total }, stages: [{ id: 'hash', kind: 'compute.hash', partitioner: 'by_range', executor: 'hash', config: { total, per_shard: 1, rounds: 1 } }] };
}

/** Events/s delivered to `clients` subscribers of `events` published, and how many they were told they missed (lagged). */
async function fanout(port: number, token: string, clients: number, events: number, publish: (n: number) => Promise<void>): Promise<{ rate: number; skipped: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/api/subscribers.ts'), String(port), token, String(clients), String(events)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const next = linesOf(child, `${clients} subscribers`, 120_000);
  await next(); // ready
  await publish(events);
  const { seconds, skipped } = JSON.parse(await next()) as { seconds: number; skipped: number };
  return { rate: (events * clients - skipped) / seconds, skipped };
}

const ROUNDS = 5;

/** The status load put on a running plan: fixed, bounded. */
const LOAD_RATE = 500;
const LOAD_CONNECTIONS = 8;

interface UnderLoad {
  /** The same load with no plan running (an ended plan's status): the machine's floor. */
  idle: Cannon;
  alone: number[];
  loaded: number[];
  during: Cannon[];
}

/**
 * A node of its own whose shard threads run at `priority`: ROUNDS pairs of a
 * plan alone and a plan under a bounded status load, in alternating order so
 * that the machine's drift falls on both alike.
 */
async function planUnderLoad(priority: 'low' | 'idle', token: string): Promise<UnderLoad> {
  const data = mkdtempSync(join(tmpdir(), 'xyn-bench-api-load-'));
  const k = await startKernel(loadConfig({ env: { XYN_DATA_DIR: data, XYN_WORKERS: '2', XYN_WORKER_PRIORITY: priority, XYN_AUTH: 'open', HXO_MAX_SHARDS: String(Math.max(1_000_000, shards)) } }), { log: createLogger('warn', 'stderr'), poolTasks: HXO_POOL_TASKS });
  const e = new HxoEngine(k);
  const s = await startApiServer({ kernel: k, engine: e, host: '127.0.0.1', port: 0 });
  try {
    // A first plan warms the node up (JIT, the store's first growth): not measured.
    const warmUp = await e.submit(plan('bench-api-warm-up', Math.min(shards, 200_000)), { baseDir: root });
    await warmUp.finished;
    const idle = await cannon(`http://127.0.0.1:${s.port}/api/hxo/status/${warmUp.planId}`, token, LOAD_CONNECTIONS, 3, LOAD_RATE);
    const out: UnderLoad = { idle, alone: [], loaded: [], during: [] };
    const runAlone = async (round: number) => await (await e.submit(plan(`bench-api-alone-${round}`), { baseDir: root, memo: false })).finished;
    // The load lasts as long as the plan does.
    const runLoaded = async (round: number) => {
      let loaded: Promise<PlanReport> | undefined;
      const start = async () => {
        const { planId, finished } = await e.submit(plan(`bench-api-loaded-${round}`), { baseDir: root, memo: false });
        loaded = finished;
        return { url: `http://127.0.0.1:${s.port}/api/hxo/status/${planId}`, until: finished };
      };
      out.during.push(await cannon(start, token, LOAD_CONNECTIONS, 600, LOAD_RATE));
      return await (loaded as Promise<PlanReport>);
    };
    for (let round = 0; round < ROUNDS; round++) {
      // Which goes first alternates: the store grows with every plan, and later plans run a little slower.
      let alone: PlanReport;
      let loaded: PlanReport;
      if (round % 2 === 0) {
        alone = await runAlone(round);
        loaded = await runLoaded(round);
      } else {
        loaded = await runLoaded(round);
        alone = await runAlone(round);
      }
      if (alone.state !== 'certified' || loaded.state !== 'certified') throw new Error(`a plan ended ${alone.state} / ${loaded.state}`);
      out.alone.push(shards / (alone.timings.total_ms / 1000));
      out.loaded.push(shards / (loaded.timings.total_ms / 1000));
    }
    return out;
  } finally {
    await s.close();
    await k.stop();
    rmSync(data, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const dir = mkdtempSync(join(tmpdir(), 'xyn-bench-api-'));
const config = loadConfig({ env: { XYN_DATA_DIR: dir, XYN_WORKERS: '2', HXO_MAX_SHARDS: String(Math.max(1_000_000, shards)) } });
const kernel = await startKernel(config, { log: createLogger('warn', 'stderr'), poolTasks: HXO_POOL_TASKS });
const engine = new HxoEngine(kernel);
const server = await startApiServer({ kernel, engine, host: '127.0.0.1', port: 0, ungatedPort: 0 });
const tokens = new TokenStore(kernel.store);
const { token } = await tokens.create('bench', 'admiral');
const baseline = await startNodeHttp(new Router(server.routes), (authorization) => {
  const record = tokens.lookup(authorization.replace(/^Bearer /, ''));
  return record ? { id: record.principal, role: record.role, capabilities: roleCapabilities(record.role, { captainView: true }) } : new ApiError(401, 'unauthorized', 'no');
});
try {
  const small = await engine.submit(plan('bench-api-small', 1000), { baseDir: root });
  await small.finished;
  const uws = `http://127.0.0.1:${server.port}`;
  const ungated = `http://127.0.0.1:${server.ungatedPort as number}`;
  const node = `http://127.0.0.1:${baseline.port}`;
  const fmt = (c: Cannon) => `${Math.round(c.rps).toLocaleString('en-US').padStart(8)} req/s  p50 ${c.p50} ms  p99 ${c.p99} ms${c.non2xx ? `  (${c.non2xx} non-2xx!)` : ''}`;

  console.log('1. routes at full load (autocannon, 16 connections, 5 s each), same handlers; uWS behind its gate (src/api/gate/, what serves), uWS alone:');
  for (const [name, path] of [['health', '/api/v1/health'], ['status', `/api/hxo/status/${small.planId}`]] as const) {
    const a = await cannon(uws + path, token, 16, 5);
    const u = await cannon(ungated + path, token, 16, 5);
    const b = await cannon(node + path, token, 16, 5);
    console.log(`  ${name.padEnd(7)} uWS+gate ${fmt(a)}`);
    console.log(`  ${name.padEnd(7)} uWS alone${fmt(u)}`);
    console.log(`  ${name.padEnd(7)} node:http${fmt(b)}`);
    console.log(`  ${name.padEnd(7)} uWS+gate / node:http: ${(a.rps / b.rps).toFixed(2)}x requests/s; uWS+gate / uWS alone: ${(a.rps / u.rps).toFixed(2)}x`);
  }
  console.log(`1b. the gate's cost at a fixed ${LOAD_RATE} requests/s (status, ${LOAD_CONNECTIONS} connections, ${ROUNDS} interleaved rounds of 3 s), p99 corrected:`);
  const gated: number[] = [];
  const alone: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const path = `/api/hxo/status/${small.planId}`;
    gated.push((await cannon(uws + path, token, LOAD_CONNECTIONS, 3, LOAD_RATE)).p99_corrected);
    alone.push((await cannon(ungated + path, token, LOAD_CONNECTIONS, 3, LOAD_RATE)).p99_corrected);
  }
  console.log(`  uWS+gate  median ${median(gated)} ms (${gated.join(', ')} ms)`);
  console.log(`  uWS alone median ${median(alone)} ms (${alone.join(', ')} ms)`);

  console.log(`2. a ${shards.toLocaleString('en-US')}-shard plan alone, then with its status asked ${LOAD_RATE} times/s (autocannon, ${LOAD_CONNECTIONS} connections${CLIENT_NICE.length ? ', client at nice -10' : ''});`);
  console.log('   p99 "corrected" adds back what coordinated omission hides (bench/api/load.ts):');
  const rate = (r: number) => Math.round(r).toLocaleString('en-US');
  for (const priority of ['idle', 'low'] as const) {
    const m = await planUnderLoad(priority, token);
    const [alone, loaded] = [median(m.alone), median(m.loaded)];
    console.log(`  XYN_WORKER_PRIORITY=${priority}${priority === 'idle' ? ' (default)' : ''}, ${ROUNDS} rounds, medians:`);
    console.log(`    plan alone          ${rate(alone).padStart(9)} shards/s  (${m.alone.map(rate).join(', ')})`);
    const drops = m.loaded.map((l, i) => (1 - l / (m.alone[i] as number)) * 100);
    console.log(`    plan + status load  ${rate(loaded).padStart(9)} shards/s  (${m.loaded.map(rate).join(', ')})`);
    console.log(`    drop                ${median(drops).toFixed(1)}%  (rounds: ${drops.map((d) => `${d.toFixed(1)}%`).join(', ')}; target < 15%)`);
    const p99s = m.during.map((c) => c.p99_corrected);
    const cannons = median(m.during.map((c) => c.autocannon_p99));
    console.log(`    status, no plan     p50 ${m.idle.p50} ms, p99 ${m.idle.p99} ms, corrected ${m.idle.p99_corrected} ms, max ${m.idle.max} ms (autocannon's own p99: ${m.idle.autocannon_p99} ms)`);
    console.log(`    status, plan runs   p50 ${median(m.during.map((c) => c.p50))} ms, p99 ${median(m.during.map((c) => c.p99))} ms, corrected ${median(p99s)} ms (rounds: ${p99s.join(', ')} ms; target < 20 ms), max ${Math.max(...m.during.map((c) => c.max))} ms (autocannon's own p99: ${cannons} ms)`);
  }

  console.log('3. events delivered over WebSocket (20,000 published):');
  let n = 0;
  const publish = async (count: number) => {
    for (let i = 0; i < count; i += 1000) await Promise.all(Array.from({ length: Math.min(1000, count - i) }, () => kernel.bus.publish('bench.fanout', { n: n++ })));
  };
  for (const clients of [1, 10, 100]) {
    for (const [how, port] of [['uWS+gate ', server.port], ['uWS alone', server.ungatedPort as number]] as const) {
      const { rate, skipped } = await fanout(port, token, clients, 20_000, publish);
      const lost = skipped > 0 ? ` (${skipped.toLocaleString('en-US')} of ${(20_000 * clients).toLocaleString('en-US')} skipped with a lagged notice)` : ', none skipped';
      console.log(`  ${String(clients).padStart(3)} subscribers, ${how}: ${Math.round(rate).toLocaleString('en-US').padStart(10)} events/s delivered${lost}`);
    }
  }
} finally {
  await server.close();
  await baseline.close();
  await kernel.stop();
  rmSync(dir, { recursive: true, force: true });
}
