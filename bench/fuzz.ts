/**
 * 100,000 fuzzed requests at a node this script starts on 127.0.0.1 (issue
 * 12; `xyn serve` in a child process, a fresh data dir, token auth): valid ones, malformed bodies, values nested past the limit, ids past
 * an LMDB key, odd methods and header fields, and protocol oddities sent as
 * raw bytes (HTTP/1.0 and /2.0, bare LFs, folded fields, two Content-Lengths,
 * chunked bodies good and bad, cut-off requests, pipelining). Each goes on a
 * connection of its own (a few pipelined on one), written whole and then
 * half-closed, so nothing waits on a timer. Prints the answers by status
 * class, the 5xx and the requests that got no answer; exits 1 unless both
 * are 0.
 *
 *   npx tsx bench/fuzz.ts                 # 100,000 requests, seed 12
 *   npx tsx bench/fuzz.ts --requests 5000 --seed 7 --connections 16
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { exchange } from '../test/helpers/raw-http.ts';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const REQUESTS = arg('requests', 100_000);
const CONNECTIONS = arg('connections', 32);
const root = fileURLToPath(new URL('..', import.meta.url));

/** mulberry32: the same seed, the same 100,000 requests. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = random(arg('seed', 12));
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
const int = (max: number) => Math.floor(rand() * max);

interface Probe {
  kind: string;
  bytes: string;
  /** Answers expected: every request on the connection, unless one before was refused in a way that closes it. */
  answers: number;
  head?: boolean[];
}

const data = mkdtempSync(join(tmpdir(), 'xyn-fuzz-'));
// Its own process: the node and this client each get a core.
const node = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--data', data, '--port', '0'], {
  cwd: root,
  env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(XYN|HXO)_/.test(k))), XYN_WORKERS: '1', XYN_LOG_LEVEL: 'fatal' },
  stdio: ['ignore', 'ignore', 'pipe'],
});
const nodeLines: string[] = [];
const { port, admiral } = await nodeUp();
/** The node's port and the admiral token its first start prints; its stderr is read to the end (a full pipe would stall it), the last lines kept. */
function nodeUp(): Promise<{ port: number; admiral: string }> {
  return new Promise((resolve, reject) => {
    let token = '';
    const lines = createInterface({ input: node.stderr });
    lines.on('line', (line) => {
      nodeLines.push(line);
      if (nodeLines.length > 20) nodeLines.shift();
      if (/^xyn_\S+$/.test(line)) token = line;
      const up = /node up on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (up) resolve({ port: Number(up[1]), admiral: token });
    });
    lines.on('close', () => reject(new Error(`the node exited before it was up: ${nodeLines.join('\n')}`)));
  });
}
/** A JSON call with the admiral's token (setting things up, not fuzzing). */
async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { authorization: `Bearer ${admiral}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return (await res.json()) as Record<string, unknown>;
}
const viewer = (await call('POST', '/api/v1/tokens', { role: 'viewer', principal: 'fuzz-viewer' })).token as string;
const planId = (await call('POST', '/api/hxo/create-and-submit', { name: 'fuzz', stages: [{ id: 'h', kind: 'compute.hash', partitioner: 'by_range', executor: 'hash', config: { total: 20, per_shard: 1, rounds: 1 } }] })).plan_id as string;
// A 20-shard plan ends in well under a second; its status says when.
while ((await call('GET', `/api/hxo/status/${planId}`)).finished_at === null) await new Promise((r) => setTimeout(r, 50));
const casId = ((await call('GET', `/api/hxo/plans/${planId}/shards?limit=1`)).items as { cas_id: string }[])[0]?.cas_id ?? '0123456789abcdef';

const PATHS = [
  '/api/v1/health',
  `/api/hxo/status/${planId}`,
  `/api/hxo/report/${planId}`,
  '/api/hxo/plans?limit=5',
  `/api/hxo/plans/${planId}/shards?limit=3`,
  `/api/hxo/proof/${planId}/${casId}`,
  `/api/hxo/outputs/${planId}?limit=2`,
  '/api/v1/events?limit=3',
  '/api/genesis/events?topic=hxo.*&limit=2',
  '/api/v1/tokens',
  '/api/hxo/status/no-such-plan',
  '/nope',
];
const LONG = 'x'.repeat(4_093);
const ODD_PATHS = [
  `/api/hxo/status/${LONG}`,
  `/api/hxo/proof/${planId}/${LONG}`,
  `/api/v1/events/${LONG}`,
  `/api/hxo/artifacts/${LONG}`,
  `/api/v1/tokens/${LONG}/revoke`,
  `/api/hxo/outputs/${LONG}`,
  '/api/hxo/status/%E0%A4%A',
  '/api/hxo/status/a%2Fb',
  `/api/hxo/plans?cursor=${LONG}`,
  `/api/hxo/plans?token=${admiral}`,
  '/api/v1/events?limit=-1',
  '/api/genesis/events?topic=a..b',
  '/api/v1/events/not-an-id',
  `/${'a/'.repeat(500)}`,
];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'DELETE', 'HEAD', 'PUT', 'PATCH', 'OPTIONS', 'TRACE', 'BREW', 'get', 'PROPFIND', 'M-SEARCH'];
const deep = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
const BODIES = [
  '{"event_name":"fuzz.ok","data":{"n":1}}',
  `{"event_name":"fuzz.deep","data":${deep(1_500)}}`,
  `{"event_name":"fuzz.deep","data":${deep(70)}}`,
  `{"name":"deep","stages":[{"id":"h","kind":"compute.hash","config":${deep(1_500)}}]}`,
  '{"name":"mod","modules":["node:fs"],"stages":[{"id":"h","kind":"compute.hash","config":{"total":3}}]}',
  '{"name":"mod","modules":["data:text/javascript,1"],"stages":[{"id":"h","kind":"compute.hash"}]}',
  '{"name":"mod","modules":["/etc/passwd"],"stages":[{"id":"h","kind":"compute.hash"}]}',
  '{"event_name":',
  '[[[[[[[[',
  '{}',
  '{"event_name":"hxo.plan","data":{}}',
  '{"failed":true}',
  '{"subtree":[0,99999]}',
  '{"role":"admiral"}',
  '"just a string"',
  '',
  'x'.repeat(1_100_000),
];
const printable = () => Array.from({ length: int(40) }, () => String.fromCharCode(0x20 + int(0x5f))).join('');
const garbage = () => String.fromCharCode(0x21 + int(0x5e)) + Array.from({ length: int(300) }, () => String.fromCharCode(int(256))).join('');

function request(method: string, path: string, headers: string[], body: string, version = 'HTTP/1.1'): string {
  return `${method} ${path} ${version}\r\n${headers.map((h) => `${h}\r\n`).join('')}${body !== '' || method === 'POST' ? `Content-Length: ${Buffer.byteLength(body, 'latin1')}\r\n` : ''}\r\n${body}`;
}

function common(): string[] {
  const auth = pick([`Authorization: Bearer ${admiral}`, `Authorization: Bearer ${admiral}`, `Authorization: Bearer ${viewer}`, 'Authorization: Basic abc', `Authorization: Bearer ${printable()}`, '']);
  return ['Host: 127.0.0.1', ...(auth ? [auth] : []), pick(['Content-Type: application/json', 'Content-Type: text/plain', `Content-Type: ${printable()}`, '']), `X-Correlation-Id: ${printable()}`].filter(Boolean);
}

/** One probe: a request (or a few pipelined) and how many answers it must get. */
function probe(): Probe {
  const r = rand();
  const one = (kind: string, bytes: string, head = false): Probe => ({ kind, bytes, answers: 1, head: [head] });
  if (r < 0.3) {
    const method = pick(['GET', 'GET', 'GET', 'HEAD']);
    return one('valid', request(method, pick(PATHS), [...common(), ...(rand() < 0.2 ? ['Accept: application/x-ndjson'] : [])], ''), method === 'HEAD');
  }
  if (r < 0.45) return one('body', request(pick(['POST', 'POST', 'PUT']), pick(['/api/v1/events', '/api/hxo/create-and-submit', `/api/hxo/replay/${planId}`, '/api/v1/tokens', `/api/hxo/abort/${LONG}`]), common(), pick(BODIES)));
  if (r < 0.55) {
    const method = pick(METHODS);
    return one('odd method/path', request(method, pick([...ODD_PATHS, ...PATHS]), common(), method === 'POST' ? pick(BODIES) : ''), method === 'HEAD');
  }
  if (r < 0.7) {
    const extra = pick([
      () => Array.from({ length: 40 + int(160) }, (_, i) => `X-F${i}: v`),
      () => ['Host: second'],
      () => [`X-Big: ${'b'.repeat(int(20_000))}`],
      () => [`${printable()}: ${printable()}`],
      () => ['X-Ctl: a\x01b'],
      () => ['X-Xyn-Gate-Refusal: forged.e30'],
      () => ['Expect: 100-continue'],
      () => ['Connection: close'],
      () => ['Upgrade: websocket', 'Connection: Upgrade'],
    ])();
    return one('odd headers', request('GET', pick(PATHS), [...common(), ...extra], ''));
  }
  if (r < 0.9) {
    const body = '{"event_name":"fuzz.raw","data":{}}';
    const post = `POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admiral}\r\nContent-Type: application/json\r\n`;
    const bytes = pick([
      () => `GET ${pick(PATHS)} HTTP/1.0\r\n\r\n`,
      () => `GET ${pick(PATHS)} HTTP/1.0\r\nAuthorization: Bearer ${admiral}\r\nAccept: application/x-ndjson\r\n\r\n`,
      () => `GET ${pick(PATHS)} HTTP/${int(4)}.${int(10)}\r\nHost: x\r\n\r\n`,
      () => `GET ${pick(PATHS)}\r\n\r\n`,
      () => `GET ${pick(PATHS)} HTTP/1.1\r\n\r\n`,
      () => `GET ${pick(PATHS)} HTTP/1.1\nHost: x\n\n`,
      () => `GET ${pick(PATHS)} HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n`,
      () => `GET ${pick(PATHS)} HTTP/1.1\r\nHost : x\r\n\r\n`,
      () => `GET http://x${pick(PATHS)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      () => 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n',
      () => `GET  ${pick(PATHS)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      () => `${post}Content-Length: ${body.length}\r\nContent-Length: ${body.length + 40}\r\n\r\n${body}GET /api/v1/tokens HTTP/1.1\r\nHost: x\r\n\r\n`,
      () => `${post}Content-Length: ${body.length}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      () => `${post}Content-Length: ${body.length}, ${body.length + 1}\r\n\r\n${body}`,
      () => `${post}Content-Length: ${pick(['-1', 'abc', '1e3', '99999999999999999999', ''])}\r\n\r\n${body}`,
      () => `${post}Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`,
      () => `${post}Transfer-Encoding: ${pick(['chunked', 'gzip', 'gzip, chunked', 'identity'])}\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
      () => `${post}Transfer-Encoding: chunked\r\n\r\n${pick(['zz', '5', 'ffffffff', '3;x=y'])}\r\n${garbage()}\r\n0\r\n\r\n`,
      () => `${post}Content-Length: 500\r\n\r\n${body}`,
      () => `GET ${pick(PATHS)} HTTP/1.1\r\nHost: x\r\n`,
      () => garbage(),
      () => `\r\n\r\nGET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n`,
    ])();
    return one('raw protocol', bytes);
  }
  // Pipelined: well-formed requests on one connection, answered in order.
  const n = 2 + int(3);
  const parts = Array.from({ length: n }, () => ({ method: pick(['GET', 'GET', 'HEAD']), path: pick(PATHS) }));
  return { kind: 'pipelined', bytes: parts.map((p) => request(p.method, p.path, common(), '')).join(''), answers: n, head: parts.map((p) => p.method === 'HEAD') };
}

const byStatus = new Map<number, number>();
const byKind = new Map<string, { sent: number; unanswered: number; fivexx: number }>();
let unanswered = 0;
/** Why requests went unanswered: the socket's error, or `closed` (the node closed it first). */
const errors = new Map<string, number>();
let sent = 0;
const examples: string[] = [];
const started = performance.now();

async function worker(): Promise<void> {
  while (sent < REQUESTS) {
    sent++;
    const p = probe();
    const { answers, error } = await exchange(port, Buffer.from(p.bytes, 'latin1'), { answers: p.answers, head: p.head ?? [], end: true, timeoutMs: 15_000 });
    const kind = byKind.get(p.kind) ?? { sent: 0, unanswered: 0, fivexx: 0 };
    byKind.set(p.kind, kind);
    kind.sent++;
    // A refusal that closes the connection ends a pipeline early (none are refused here: all are well-formed).
    const missing = answers.length === 0 ? 1 : p.kind === 'pipelined' ? p.answers - answers.length : 0;
    if (missing > 0) {
      unanswered += missing;
      kind.unanswered += missing;
      errors.set(error ?? 'closed', (errors.get(error ?? 'closed') ?? 0) + missing);
      if (examples.length < 5) examples.push(`no answer (${error ?? 'closed'}): ${JSON.stringify(p.bytes.slice(0, 160))}`);
    }
    for (const a of answers) {
      byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
      if (a.status >= 500) {
        kind.fivexx++;
        if (examples.length < 5) examples.push(`${a.status}: ${JSON.stringify(p.bytes.slice(0, 160))} → ${a.body.toString().slice(0, 200)}`);
      }
    }
  }
}

try {
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const seconds = (performance.now() - started) / 1000;
  const classes = new Map<string, number>();
  for (const [status, n] of byStatus) classes.set(`${Math.floor(status / 100)}xx`, (classes.get(`${Math.floor(status / 100)}xx`) ?? 0) + n);
  const fivexx = classes.get('5xx') ?? 0;
  const health = await exchange(port, 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n', { answers: 1 });
  console.log(`${REQUESTS.toLocaleString('en-US')} probes in ${seconds.toFixed(1)} s (${Math.round(REQUESTS / seconds).toLocaleString('en-US')}/s, ${CONNECTIONS} at a time), ${[...byStatus.values()].reduce((a, b) => a + b, 0).toLocaleString('en-US')} answers`);
  console.log(`by class: ${['2xx', '3xx', '4xx', '5xx'].map((c) => `${c} ${(classes.get(c) ?? 0).toLocaleString('en-US')}`).join(', ')}`);
  console.log(`by status: ${[...byStatus].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s} ${n.toLocaleString('en-US')}`).join(', ')}`);
  for (const [kind, k] of byKind) console.log(`  ${kind.padEnd(16)} ${String(k.sent).padStart(7)} sent, ${k.fivexx} 5xx, ${k.unanswered} unanswered`);
  console.log(`5xx: ${fivexx}; no answer: ${unanswered}${unanswered ? ` (${[...errors].map(([e, n]) => `${e} ${n}`).join(', ')})` : ''}; health after: ${health.answers[0]?.status ?? 'none'}`);
  for (const e of examples) console.log(`  ${e}`);
  if (unanswered > 0) console.log(`the node's last lines:\n${nodeLines.join('\n')}`);
  process.exitCode = fivexx === 0 && unanswered === 0 && health.answers[0]?.status === 200 ? 0 : 1;
} finally {
  const exited = new Promise((resolve) => node.once('exit', resolve));
  node.kill('SIGTERM');
  await exited;
  rmSync(data, { recursive: true, force: true });
}
