/**
 * Child process of the API benchmark: K WebSocket clients subscribe to
 * `bench.fanout`, say `ready`, and once every client has had all N events
 * (received, or reported skipped by a `lagged` notice) print
 * `{"seconds": …, "skipped": …}`, timed from the first event any client got.
 *
 *   node --import tsx bench/api/subscribers.ts PORT TOKEN K N
 */
import WebSocket from 'ws';

const [port, token, k, n] = process.argv.slice(2);
const clients = Number(k);
const events = Number(n);
let subscribed = 0;
let finished = 0;
let skipped = 0;
let first = 0;

for (let c = 0; c < clients; c++) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/stream?token=${token}`);
  let accounted = 0;
  ws.on('open', () => ws.send(JSON.stringify({ op: 'subscribe', topics: ['bench.fanout'] })));
  ws.on('message', (data: Buffer) => {
    // Frames are told apart by their start; only the rare notices are parsed.
    const start = data.toString('utf8', 0, 20);
    if (start === '{"type":"subscribed"') {
      if (++subscribed === clients) process.stdout.write('ready\n');
      return;
    }
    if (start.startsWith('{"type":"lagged"')) {
      const lost = (JSON.parse(data.toString('utf8')) as { skipped: number }).skipped;
      skipped += lost;
      accounted += lost;
    } else {
      if (first === 0) first = performance.now();
      accounted++;
    }
    if (accounted === events && ++finished === clients) {
      process.stdout.write(JSON.stringify({ seconds: (performance.now() - first) / 1000, skipped }) + '\n');
      process.exit(0);
    }
  });
}
