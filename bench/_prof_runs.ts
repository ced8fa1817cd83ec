import { Session } from 'node:inspector/promises';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../src/kernel/config.ts';
import { createLogger } from '../src/kernel/log.ts';
import { startNode } from '../src/node/node.ts';

const dir = mkdtempSync(join(tmpdir(), 'xyn-prof-'));
const node = await startNode(loadConfig({ env: { XYN_DATA_DIR: dir, XYN_AUTH: 'open' } }), { log: createLogger('warn', 'stderr'), serving: true, api: { host: '127.0.0.1', port: 0 } });
const bp = { id: 'bp.prof', name: 'p', trigger: { event_type: 'bench.order.*' }, inputs: [{ name: 'qty' }], plan: [
  { kind: 'transform', id: 'a', outputs: { q: '{{inputs.qty}}' } },
  { kind: 'transform', id: 'b', outputs: { d: '{{ steps.a.outputs.q * 2 }}' } },
  { kind: 'transform', id: 'c', outputs: { s: 'qty {{steps.b.outputs.d}}' } }], outputs: [{ name: 's', value: '{{steps.c.outputs.s}}' }] };
const s = await node.drafts.save({ text: stringify(bp), by: 'x' });
await node.drafts.validate(s.draft_id);
await node.drafts.promote(s.draft_id, { revision: s.revision, by: 'x' });
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
const { PerformanceObserver } = await import('node:perf_hooks');
const gcs: Record<string, [number, number]> = {};
new PerformanceObserver((l) => { for (const e of l.getEntries()) { const k = String((e as unknown as { detail: { kind: number } }).detail.kind); const g = (gcs[k] ??= [0, 0]); g[0]++; g[1] += e.duration; } }).observe({ entryTypes: ['gc'] });
process.on('exit', () => console.log('gc by kind (1 scavenge, 2 minor mc, 4 mark-compact, 8 weak cb): count, ms', JSON.stringify(gcs)));
const N = 10000;
const t0 = performance.now();
let done = 0;
const sub = node.kernel.bus.subscribe('xyn.run.completed', {});
for (let i = 0; i < N; i++) void node.kernel.bus.publish('bench.order.placed', { qty: i });
for await (const d of sub) { if (d.type === 'event' && ++done === N) break; }
const secs = (performance.now() - t0) / 1000;
const { profile } = await session.post('Profiler.stop');
writeFileSync('/tmp/prof2/runs.cpuprofile', JSON.stringify(profile));
console.log(`runs/s ${(N / secs).toFixed(0)}`, JSON.stringify(process.memoryUsage()));
await node.stop();
