/**
 * Child process of the API benchmark: K WebSocket clients subscribe to
 * `bench.fanout`, say `ready`, and when every client has N events, print
 * `{"seconds": …}` (from the first event any client got to the last one).
 *
 *   node --import tsx bench/api/subscribers.ts PORT TOKEN K N
 */
import WebSocket from 'ws';

const [port, token, k, n] = process.argv.slice(2);
const clients = Number(k);
const events = Number(n);
let subscribed = 0;
let finished = 0;
let first = 0;

for (let c = 0; c < clients; c++) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/stream?token=${token}`);
  let got = 0;
  ws.on('open', () => ws.send(JSON.stringify({ op: 'subscribe', topics: ['bench.fanout'] })));
  ws.on('message', (data: Buffer) => {
    // Frames are told apart by their start, not parsed: the server's work is what is measured.
    if (data.toString('utf8', 0, 20) === '{"type":"subscribed"') {
      if (++subscribed === clients) process.stdout.write('ready\n');
      return;
    }
    if (first === 0) first = performance.now();
    if (++got === events && ++finished === clients) {
      process.stdout.write(JSON.stringify({ seconds: (performance.now() - first) / 1000 }) + '\n');
      process.exit(0);
    }
  });
}
