/**
 * The stream benchmark: what one WebSocket reader gets from a node, and the
 * node's peak RSS, for this source tree and — with `--base DIR`, a checkout
 * of another commit — the same measured in the same run, rounds alternating
 * between the two, so that a shared machine's drift falls on both alike.
 *
 * Per node (bench/stream/node.ts; a log of 3,000 `hxo.shard.done` events of
 * 100 items, ~28 MB as JSON):
 * - replay: one client, one `{"topics":[">"],"since":0}`: events/s and MB/s
 *   until it has the whole log;
 * - live: the same client subscribed live while 50,000 small events are
 *   published: events/s delivered;
 * - viewer: one client with 32 `since: 0` subscriptions: events/s until it
 *   has the log 32 times;
 * each as events/s and as the node's CPU time per event sent (steadier on a
 * busy machine), then the node's peak RSS.
 *
 *   npm run bench:stream
 *   npm run bench:stream -- --base /tmp/xyn-main --rounds 3
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const here = fileURLToPath(new URL('..', import.meta.url));
const arg = (name: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const base = arg('--base');
const rounds = Number(arg('--rounds') ?? 3);
const EVENTS = 3000;
const LIVE = 50_000;

interface Result {
  replay_events_s: number;
  replay_mb_s: number;
  /** The node's CPU time (all threads) per event sent: steadier than rates on a shared machine. */
  replay_cpu_us: number;
  live_events_s: number;
  live_cpu_us: number;
  viewer_events_s: number;
  viewer_cpu_us: number;
  peak_rss_mib: number;
}

/** Resolves once `client` has had `frames` event frames (counted, not parsed); its bytes. */
function reader(port: number, subscribe: object[], frames: number): Promise<{ ws: WebSocket; done: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/stream`);
    let got = 0;
    let bytes = 0;
    let finish: (b: number) => void = () => {};
    const done = new Promise<number>((r) => (finish = r));
    ws.on('message', (data: Buffer) => {
      if (data[2] !== 0x74 || data[9] !== 0x65) return; // {"type":"event" — the rare other frames are not counted
      bytes += data.length;
      if (++got === frames) finish(bytes);
    });
    ws.once('open', () => {
      for (const s of subscribe) ws.send(JSON.stringify(s));
      resolve({ ws, done });
    });
    ws.once('error', reject);
  });
}

async function measure(root: string): Promise<Result> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/stream/node.ts', root, String(EVENTS)], { cwd: here, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const line = async () => (await lines.next()).value as string;
  const { port, last_seq } = JSON.parse(await line()) as { port: number; last_seq: number };
  const cpu = async () => {
    child.stdin.write('cpu\n');
    return Number(await line());
  };
  const timed = async (subscribe: object[], frames: number, start?: () => void) => {
    const cpu0 = await cpu();
    const t0 = performance.now();
    const r = await reader(port, subscribe, frames);
    start?.();
    const bytes = await r.done;
    const seconds = (performance.now() - t0) / 1000;
    if (start) await line(); // published
    const cpuUs = (await cpu()) - cpu0;
    r.ws.terminate();
    return { seconds, bytes, cpuPerEvent: cpuUs / frames };
  };
  const all = { op: 'subscribe', topics: ['>'], since: 0 };
  const replay = await timed([all], last_seq);
  const live = await timed([{ op: 'subscribe', topics: ['bench.live'] }], LIVE, () => child.stdin.write(`live ${LIVE}\n`));
  const viewer = await timed(Array.from({ length: 32 }, () => all), 32 * last_seq);
  child.stdin.write('rss\n');
  const rss = Number(await line()) / 1024;
  child.stdin.end('exit\n');
  await new Promise((r) => child.once('exit', r));
  return {
    replay_events_s: last_seq / replay.seconds,
    replay_mb_s: replay.bytes / 1e6 / replay.seconds,
    replay_cpu_us: replay.cpuPerEvent,
    live_events_s: LIVE / live.seconds,
    live_cpu_us: live.cpuPerEvent,
    viewer_events_s: (32 * last_seq) / viewer.seconds,
    viewer_cpu_us: viewer.cpuPerEvent,
    peak_rss_mib: rss,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const trees: [string, string][] = [['this tree', here], ...(base ? [['base', base] as [string, string]] : [])];
const results = new Map<string, Result[]>(trees.map(([name]) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, root] of round % 2 ? [...trees].reverse() : trees) {
    const r = await measure(root);
    (results.get(name) as Result[]).push(r);
    console.error(`round ${round + 1}, ${name}: ${JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round(v)])))}`);
  }
}
const keys = ['replay_events_s', 'replay_mb_s', 'replay_cpu_us', 'live_events_s', 'live_cpu_us', 'viewer_events_s', 'viewer_cpu_us', 'peak_rss_mib'] as const;
const show = (v: number) => (v < 100 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US'));
console.log(`stream, ${EVENTS} shard events in the log, medians of ${rounds} rounds${base ? '; the ratio is the median of each round\'s ratio (the two ran back to back)' : ''}:`);
console.log(['metric', ...trees.map(([n]) => n), ...(base ? ['this / base'] : [])].join('\t'));
for (const k of keys) {
  const [mine, theirs] = trees.map(([n]) => (results.get(n) as Result[]).map((r) => r[k]));
  const ratio = theirs ? median((mine as number[]).map((v, i) => v / (theirs[i] as number))).toFixed(2) : undefined;
  console.log([k, show(median(mine as number[])), ...(theirs ? [show(median(theirs)), ratio] : [])].join('\t'));
}
