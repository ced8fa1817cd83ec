/**
 * The workflow-runs benchmark: N runs of a 3-step transform blueprint, each
 * started by an event on the bus, on a real serving node in this process
 * (API on loopback, XYN_AUTH=open, a temp data dir; every event and every
 * run's record durable in LMDB before it is said done), while a bounded
 * client asks the API the whole time.
 *
 * - runs/s: N / (first publish → last `xyn.run.completed` delivered);
 * - event → run completed: per run, from its event's publish (at `--rate`,
 *   from when it was due: a late publish counts against it) to its
 *   `xyn.run.completed` reaching a subscriber, matched by correlation_id;
 * - the API: autocannon (bench/api/load.ts) at a fixed `--api-rate`
 *   requests/s in all, split over `--routes`, first with no runs going
 *   (the floor), then for as long as the runs go; p99 also corrected for
 *   coordinated omission.
 *
 * Not a result unless it is right: every run completed (none failed or
 * cancelled), the outputs of 100 sampled runs read back from the store are
 * what their events make, and the store holds exactly N completed runs
 * (paged through `runs.list`). Otherwise it exits 1.
 *
 * Targets (the issue): >= 2,000 runs/s on this 2-core machine, API p99 < 20 ms.
 *
 *   npm run bench:runs
 *   npm run bench:runs -- --runs 2000 --rate 500 --json
 *   npm run bench:runs -- --routes /api/v1/health,/api/v1/runs?limit=20 --api-rate 200
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../src/kernel/config.ts';
import { createLogger } from '../src/kernel/log.ts';
import { startNode } from '../src/node/node.ts';
import type { RunEngine } from '../src/xyn/runs/run-engine.ts';
import { CLIENT_NICE, cannon, type Cannon } from './api/cannon.ts';
import { positiveIntArg } from './lib.ts';

const runs = positiveIntArg('bench:runs', '--runs', 10_000);
const rate = process.argv.includes('--rate') ? positiveIntArg('bench:runs', '--rate', 1) : undefined;
const apiRate = positiveIntArg('bench:runs', '--api-rate', 200);
const json = process.argv.includes('--json');
const routesAt = process.argv.indexOf('--routes');
const ROUTES = ['/api/v1/runs?limit=20', '/api/v1/health'];
/** What is asked instead when a route of the default list is not served (404) by this build. */
const FALLBACK_ROUTES = ['/api/v1/health', '/api/v1/events?limit=20'];
const askedRoutes = routesAt > 0 ? String(process.argv[routesAt + 1]).split(',').filter(Boolean) : ROUTES;

const TARGET_RUNS_PER_S = 2_000;
const TARGET_API_P99_MS = 20;
const SAMPLE = 100;
const PUBLISH_CHUNK = 500;
const API_CONNECTIONS_PER_ROUTE = 2;
const STALL_MS = 30_000;

/** Three transforms, each reading the inputs and the steps before it; the run's outputs from the last two. */
const blueprint = {
  id: 'bp.bench.order',
  name: 'Bench order',
  trigger: { event_type: 'bench.order.*' },
  inputs: [{ name: 'order' }, { name: 'qty' }, { name: 'sku' }],
  plan: [
    { kind: 'transform', id: 'normalise', outputs: { qty: '{{inputs.qty}}', sku: 'sku-{{inputs.sku}}' } },
    { kind: 'transform', id: 'price', outputs: { line: ['{{steps.normalise.outputs.sku}}', '{{steps.normalise.outputs.qty}}'], order: '{{inputs.order}}' } },
    { kind: 'transform', id: 'summary', outputs: { text: 'order {{steps.price.outputs.order}} ({{event.name}}): {{steps.normalise.outputs.qty}} x {{steps.normalise.outputs.sku}}' } },
  ],
  outputs: [
    { name: 'summary', value: '{{steps.summary.outputs.text}}' },
    { name: 'line', value: '{{steps.price.outputs.line}}' },
  ],
};

const orderOf = (i: number) => ({ order: i, qty: (i % 7) + 1, sku: `s${i % 13}` });
const expectedOutputs = (i: number) => {
  const { qty, sku } = orderOf(i);
  return { summary: `order ${i} (bench.order.placed): ${qty} x sku-${sku}`, line: [`sku-${sku}`, qty] };
};

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN;
const round = (ms: number) => Math.round(ms * 10) / 10;

const dir = mkdtempSync(join(tmpdir(), 'xyn-bench-runs-'));
const config = loadConfig({ env: { ...process.env, XYN_DATA_DIR: dir, XYN_AUTH: 'open', XYN_GC_INTERVAL_MS: '0' } });
const node = await startNode(config, { log: createLogger('warn', 'stderr'), api: { host: '127.0.0.1', port: 0 }, serving: true, workflows: true, engine: false });
const problems: string[] = [];
try {
  const engine = node.runs as RunEngine;
  const base = `http://127.0.0.1:${node.server?.port as number}`;
  const saved = await node.drafts.save({ text: stringify(blueprint), by: 'bench' });
  const { report } = await node.drafts.validate(saved.draft_id);
  if (!report.is_valid) throw new Error(`the bench blueprint is invalid: ${JSON.stringify(report.issues)}`);
  await node.drafts.promote(saved.draft_id, { revision: saved.revision, by: 'bench' });

  // The routes asked: the default list falls back when this build does not serve one of them.
  let routes = askedRoutes;
  let routeNote = '';
  const missing = [];
  for (const route of routes) if ((await fetch(base + route)).status === 404) missing.push(route);
  if (missing.length > 0) {
    if (routesAt > 0) throw new Error(`not served here (404): ${missing.join(', ')}`);
    routes = FALLBACK_ROUTES;
    routeNote = `${missing.join(', ')} not served by this build (404): asked ${routes.join(' and ')} instead`;
  }
  const perRoute = Math.max(1, Math.round(apiRate / routes.length));

  /** The bounded client on every route at once, until `until` settles (or `seconds` pass). */
  const apiLoad = async (seconds: number, until?: Promise<unknown>, started?: () => void): Promise<Cannon[]> => {
    // Every load process has loaded before any starts: one's start-up would take the CPU from under another's measuring.
    let ready = 0;
    let allReady: () => void = () => undefined;
    const barrier = new Promise<void>((r) => (allReady = r));
    const end = until ?? barrier.then(() => new Promise((r) => setTimeout(r, seconds * 1000)));
    return await Promise.all(
      routes.map((route) =>
        cannon(
          async () => {
            if (++ready === routes.length) {
              allReady();
              started?.();
            }
            await barrier;
            return { url: base + route, until: end };
          },
          'open',
          API_CONNECTIONS_PER_ROUTE,
          seconds,
          perRoute,
        ),
      ),
    );
  };
  // The routes warmed up (JIT, first allocations) before the floor is measured.
  for (let k = 0; k < 200; k++) for (const route of routes) await (await fetch(base + route)).arrayBuffer();
  const idle = await apiLoad(3);

  // What each run's event was published (or due) at, by its correlation_id.
  const publishedAt = new Array<number>(runs).fill(NaN);
  const completedAt = new Array<number>(runs).fill(NaN);
  const runIds = new Array<string>(runs);
  const ends = node.kernel.bus.subscribe(['xyn.run.completed', 'xyn.run.failed', 'xyn.run.cancelled'], { since: node.kernel.bus.lastSeq, lag: 'replay', queueSize: 4096 });
  let done = 0;
  let lastAt = 0;
  // A run that never ends is a failure of the bench, not a wait forever.
  let seen = -1;
  const watchdog = setInterval(() => {
    if (done === seen) {
      problems.push(`no run ended for ${STALL_MS / 1000} s: ${done} of ${runs} had`);
      ends.unsubscribe();
    }
    seen = done;
  }, STALL_MS);
  const allEnded = (async () => {
    for await (const d of ends) {
      if (d.type !== 'event') continue;
      const now = performance.now();
      const i = Number(/^bench-(\d+)$/.exec(d.event.correlation_id)?.[1] ?? NaN);
      if (!(i >= 0 && i < runs)) continue;
      if (d.event.event_name !== 'xyn.run.completed') problems.push(`run ${d.event.run_id} of event ${i} ended ${d.event.event_name}`);
      completedAt[i] = now;
      runIds[i] = d.event.run_id as string;
      lastAt = now;
      if (++done === runs) return;
    }
  })().finally(() => clearInterval(watchdog));

  const rssBefore = process.resourceUsage().maxRSS;
  let firstAt = 0;
  const publishAll = async () => {
    firstAt = performance.now();
    const publish = (i: number) => node.kernel.bus.publish('bench.order.placed', orderOf(i), { correlation_id: `bench-${i}` });
    if (rate === undefined) {
      for (let from = 0; from < runs; from += PUBLISH_CHUNK) {
        const chunk: Promise<unknown>[] = [];
        for (let i = from; i < Math.min(runs, from + PUBLISH_CHUNK); i++) {
          publishedAt[i] = performance.now();
          chunk.push(publish(i));
        }
        await Promise.all(chunk);
      }
      return;
    }
    // At a fixed rate: each event is due at first + i / rate, and timed from then.
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < runs; ) {
      const now = performance.now();
      for (; i < runs && firstAt + (i * 1000) / rate <= now; i++) {
        publishedAt[i] = firstAt + (i * 1000) / rate;
        pending.push(publish(i));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(pending);
  };

  let loaded: Cannon[] = [];
  await new Promise<void>((resolve, reject) => {
    const load = apiLoad(600, allEnded, () => {
      publishAll().catch(reject);
      resolve();
    });
    load.then((l) => (loaded = l)).catch(reject);
    void load.finally(() => resolve());
  });
  await allEnded;
  const seconds = (lastAt - firstAt) / 1000;
  const peakRssMib = Math.round(Math.max(rssBefore, process.resourceUsage().maxRSS) / 1024);
  // The load's children answer once `allEnded` has stopped them.
  while (loaded.length === 0) await new Promise((r) => setTimeout(r, 10));
  ends.unsubscribe();

  // Right, or no result: the outputs of a sample, and the store's count of completed runs.
  for (let k = 0; k < SAMPLE; k++) {
    const i = Math.floor((k * runs) / SAMPLE);
    const runId = runIds[i];
    if (runId === undefined) {
      problems.push(`event ${i}: its run never ended`);
      continue;
    }
    const run = engine.get(runId);
    const want = JSON.stringify(expectedOutputs(i));
    if (run.status !== 'completed' || JSON.stringify(run.outputs) !== want || run.correlation_id !== `bench-${i}`) {
      problems.push(`run ${run.run_id} of event ${i}: ${run.status}, outputs ${JSON.stringify(run.outputs)} (want ${want})`);
    }
    const steps = engine.steps(run.run_id);
    if (steps.length !== 3 || steps.some((s) => s.status !== 'completed')) problems.push(`run ${run.run_id}: steps ${steps.map((s) => `${s.step_id} ${s.status}`).join(', ')}`);
  }
  let stored = 0;
  for (let cursor: string | null = null; ; ) {
    const page = engine.list({ status: 'completed', limit: 500, ...(cursor ? { cursor } : {}) });
    stored += page.items.filter((r) => r.blueprint_id === blueprint.id).length;
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  if (stored !== runs) problems.push(`the store holds ${stored} completed runs, not ${runs}`);
  for (const status of ['failed', 'cancelled', 'running', 'created'] as const) {
    const n = engine.book.idsIn(status).length;
    if (n > 0) problems.push(`${n} runs ${status}`);
  }
  for (const c of [...idle, ...loaded]) if (c.non2xx > 0) problems.push(`${c.non2xx} non-2xx API answers`);

  const latencies = completedAt.map((t, i) => t - (publishedAt[i] as number)).sort((a, b) => a - b);
  const storeMib = statSync(join(config.storePath, 'data.mdb')).size / 1024 ** 2;
  const apiSummary = (cs: Cannon[]) => ({
    requests: cs.reduce((n, c) => n + c.requests, 0),
    p50: Math.max(...cs.map((c) => c.p50)),
    p99: Math.max(...cs.map((c) => c.p99)),
    p99_corrected: Math.max(...cs.map((c) => c.p99_corrected)),
    max: Math.max(...cs.map((c) => c.max)),
    by_route: Object.fromEntries(routes.map((r, k) => [r, cs[k]])),
  });
  const result = {
    runs,
    rate: rate ?? 'full speed',
    seconds: round(seconds),
    runs_per_s: Math.round(runs / seconds),
    event_to_completed_ms: { p50: round(quantile(latencies, 0.5)), p95: round(quantile(latencies, 0.95)), p99: round(quantile(latencies, 0.99)), max: round(latencies.at(-1) ?? NaN) },
    api: { routes, note: routeNote || null, rate: perRoute * routes.length, idle: apiSummary(idle), during: apiSummary(loaded) },
    peak_rss_mib: peakRssMib,
    store_mib: Math.round(storeMib * 10) / 10,
    correct: problems.length === 0,
    problems: problems.slice(0, 20),
  };
  const meets = result.correct && result.runs_per_s >= TARGET_RUNS_PER_S && result.api.during.p99_corrected < TARGET_API_P99_MS;
  if (json) {
    console.log(JSON.stringify({ ...result, targets: { runs_per_s: TARGET_RUNS_PER_S, api_p99_ms: TARGET_API_P99_MS }, meets }));
  } else {
    const e = result.event_to_completed_ms;
    const api = (s: ReturnType<typeof apiSummary>) => `p50 ${s.p50} ms, p99 ${s.p99} ms, corrected ${s.p99_corrected} ms, max ${s.max} ms (${s.requests.toLocaleString('en-US')} requests)`;
    console.log(`${runs.toLocaleString('en-US')} runs of a 3-step transform blueprint, each started by a bench.order.placed event (${rate ? `${rate} events/s` : 'published at full speed'}), durable in LMDB`);
    console.log(`  runs/s                  ${result.runs_per_s.toLocaleString('en-US').padStart(8)}  (${result.seconds} s first publish → last completed; target >= ${TARGET_RUNS_PER_S.toLocaleString('en-US')})`);
    console.log(`  event → run completed   p50 ${e.p50} ms, p95 ${e.p95} ms, p99 ${e.p99} ms, max ${e.max} ms`);
    console.log(`  API, ${result.api.rate} req/s over ${routes.join(' + ')} (${API_CONNECTIONS_PER_ROUTE} keep-alive connections each${CLIENT_NICE.length ? ', client at nice -10' : ''}); worst route:`);
    console.log(`    no runs going         ${api(result.api.idle)}`);
    console.log(`    while runs go         ${api(result.api.during)}  (target p99 < ${TARGET_API_P99_MS} ms)`);
    if (routeNote) console.log(`    note: ${routeNote}`);
    console.log(`  peak RSS                ${peakRssMib} MiB (this process: node, API and bench)`);
    console.log(`  store                   ${result.store_mib} MiB (data.mdb)`);
    console.log(`  correct                 ${result.correct ? `yes: ${runs} completed in the store, none failed, ${SAMPLE} sampled runs' outputs right` : `NO: ${problems.slice(0, 5).join('; ')}`}`);
    console.log(`  verdict: ${meets ? 'meets' : 'misses'} the targets (>= ${TARGET_RUNS_PER_S.toLocaleString('en-US')} runs/s: ${result.runs_per_s.toLocaleString('en-US')}; API p99 corrected < ${TARGET_API_P99_MS} ms: ${result.api.during.p99_corrected} ms${result.correct ? '' : '; NOT CORRECT'})`);
  }
  if (!result.correct) process.exitCode = 1;
} finally {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
}
