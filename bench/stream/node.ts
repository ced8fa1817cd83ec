/**
 * Child process of the stream benchmark: a node (kernel and API server, no
 * engine) built from the modules of the source tree at ROOT — this one, or
 * another checkout to compare with — whose log holds EVENTS shard events the
 * size of a plan's (`hxo.shard.done`, 100 packed items each). It prints
 * `{"port": …, "last_seq": …}`, then answers lines on stdin:
 * `live N` publishes N small events as fast as the bus takes them and says
 * `published`; `cpu` prints the CPU time it has used (µs, all threads);
 * `rss` prints its peak resident set in KiB.
 *
 *   node --import tsx bench/stream/node.ts ROOT EVENTS
 */
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type * as ConfigModule from '../../src/kernel/config.ts';
import type * as KernelModule from '../../src/kernel/kernel.ts';
import type * as LogModule from '../../src/kernel/log.ts';
import type * as HexItemsModule from '../../src/core/hex-items.ts';
import type * as ServerModule from '../../src/api/server.ts';

const [root = '.', count = '3000'] = process.argv.slice(2);
// This tree's modules give the types; ROOT's are the ones that run.
const from = (path: string) => import(pathToFileURL(join(root, 'src', path)).href);
const { loadConfig } = (await from('kernel/config.ts')) as typeof ConfigModule;
const { startKernel } = (await from('kernel/kernel.ts')) as typeof KernelModule;
const { createLogger } = (await from('kernel/log.ts')) as typeof LogModule;
// A base from before src/core/ has it in the kernel.
const { HexItems } = (await from('core/hex-items.ts').catch(() => from('kernel/hex-items.ts'))) as typeof HexItemsModule;
const { startApiServer } = (await from('api/server.ts')) as typeof ServerModule;

const data = mkdtempSync(join(tmpdir(), 'xyn-bench-stream-'));
const kernel = await startKernel(loadConfig({ env: { XYN_DATA_DIR: data, XYN_WORKERS: '1', XYN_AUTH: 'open' } }), { log: createLogger('warn', 'stderr') });
const server = await startApiServer({ kernel, host: '127.0.0.1', port: 0 });
const { bus } = kernel;

const items = () =>
  new HexItems(100, [
    { name: 'cas_id', bytes: 8, data: randomFillSync(new Uint8Array(800)) },
    { name: 'output_digest', bytes: 32, data: randomFillSync(new Uint8Array(3200)) },
  ]);
for (let i = 0; i < Number(count); i += 500) {
  await Promise.all(Array.from({ length: Math.min(500, Number(count) - i) }, () => bus.publish('hxo.shard.done', { plan_id: 'bench', stage_id: 'hash', count: 100, items: items() })));
}
process.stdout.write(JSON.stringify({ port: server.port, last_seq: bus.lastSeq }) + '\n');

for await (const line of createInterface({ input: process.stdin })) {
  const [command, n] = line.split(' ');
  if (command === 'live') {
    for (let i = 0; i < Number(n); i += 1000) await Promise.all(Array.from({ length: Math.min(1000, Number(n) - i) }, (_, k) => bus.publish('bench.live', { n: i + k })));
    process.stdout.write('published\n');
  } else if (command === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.stdout.write(`${user + system}\n`);
  } else if (command === 'rss') {
    process.stdout.write(`${process.resourceUsage().maxRSS}\n`);
  } else break;
}
await server.close();
await kernel.stop();
rmSync(data, { recursive: true, force: true });
