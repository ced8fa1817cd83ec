/**
 * Child process of the API benchmark: autocannon against one URL, every
 * response's latency kept, printed as one JSON line:
 *
 *   {"rps", "requests", "non2xx", "p50", "p99", "max", "p99_corrected", "autocannon_p99"}
 *
 * At a fixed rate (RATE requests/s in all), `p99_corrected` adds what coordinated
 * omission hides, the way wrk2 does: a response that took L ms on a
 * connection meant to send every I ms (I = 1000 × connections / R) stands
 * also for the requests that connection did not send meanwhile, at L − I,
 * L − 2I, … ms. autocannon's own correction is not used: it takes the
 * interval as ceil(1 / per-connection rate) = 1 ms whatever the rate (a unit
 * slip in autocannon 9), so every response of L ms also counts L − 1 made-up
 * ones, and its p99 reads several ms above every response's own (printed
 * too, as `autocannon_p99`, for comparison).
 *
 * It says `ready` once loaded and starts when it reads the URL on stdin, so
 * that its own start-up (most of its CPU time) falls before what it measures;
 * it runs SECONDS at most, or until it reads `stop`.
 *
 *   node --import tsx bench/api/load.ts TOKEN CONNECTIONS SECONDS [RATE]   (stdin: URL, then maybe stop)
 */
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

const [token, connections, seconds, rate] = process.argv.slice(2) as [string, string, string, string | undefined];
const latencies: number[] = [];
const stdin = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
process.stdout.write('ready\n');
const url = String((await stdin.next()).value).trim();
const result = await new Promise<autocannon.Result>((resolve, reject) => {
  const options = {
    url,
    connections: Number(connections),
    duration: Number(seconds),
    headers: { authorization: `Bearer ${token}` },
    ...(rate ? { overallRate: Number(rate) } : {}),
  };
  const instance = autocannon(options, (err, r) => (err ? reject(err as Error) : resolve(r)));
  instance.on('response', (_client, statusCode, _bytes, ms) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(ms);
  });
  void stdin.next().then(() => instance.stop());
});

latencies.sort((a, b) => a - b);
const corrected = [...latencies];
if (rate) {
  const interval = (1000 * Number(connections)) / Number(rate);
  for (const ms of latencies) for (let missed = ms - interval; missed > 0; missed -= interval) corrected.push(missed);
  corrected.sort((a, b) => a - b);
}
const at = (sorted: number[], q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN);
process.stdout.write(
  JSON.stringify({
    rps: result.requests.average,
    requests: latencies.length,
    non2xx: result.non2xx,
    p50: at(latencies, 0.5),
    p99: at(latencies, 0.99),
    max: round(latencies.at(-1) ?? NaN),
    p99_corrected: at(corrected, 0.99),
    autocannon_p99: result.latency.p99,
  }) + '\n',
);
process.exit(0);

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
