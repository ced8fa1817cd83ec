/**
 * Shared helpers of the HXO engine suites: a real kernel in a temp data dir,
 * and the plan's results recomputed from the spec, independently of the engine:
 *
 * - cas_id = first 16 hex of sha256(canonicalEncode({executor, input, kind}));
 * - compute.hash output = {digest: hex(sha256(canonicalEncode(input)))} (then
 *   rounds - 1 more sha256 over the raw digest);
 * - output_digest = sha256(canonicalEncode(output));
 * - leaf = sha256(0x00 ‖ ascii cas_id ‖ raw output_digest); RFC 9162 root.
 */
import { createHash } from 'node:crypto';
import { afterAll } from 'vitest';
import { fileURLToPath } from 'node:url';
import { canonicalEncode } from '../../src/core/canonical.ts';
import { loadConfig } from '../../src/kernel/config.ts';
import { createLogger } from '../../src/kernel/log.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import type { HxoEngine } from '../../src/hxo/engine.ts';
import { startNode as bootNode } from '../../src/node/node.ts';
import { checkpointDb, decodeCheckpoint, forEachBlockRecord, parseBlockKey, planKeyRange, readCheckpoint } from '../../src/hxo/checkpoints/checkpoint-records.ts';
import { decode } from '../../src/core/codec.ts';
import type { PlanReport } from '../../src/hxo/report.ts';
import { merkleRoot } from '../../src/hxo/certify/merkle.ts';
import type { XynEvent } from '../../src/core/event.ts';
import { tempDir } from '../kernel/helpers.ts';

export { REPO_ROOT } from '../helpers/cli.ts';
export const BLUEPRINTS = fileURLToPath(new URL('../../blueprints/', import.meta.url));
export const FLAKY_KIND = fileURLToPath(new URL('../fixtures/kinds/flaky-kind.ts', import.meta.url));

export interface TestNode {
  kernel: Kernel;
  engine: HxoEngine;
  dir: string;
  /** Stops the kernel and removes the data dir. */
  close(): Promise<void>;
}

/** A `startNode` for one test file: every node it starts is closed after the file. */
export function nodesOfFile(): (env?: Record<string, string>) => Promise<TestNode> {
  const nodes: TestNode[] = [];
  afterAll(async () => {
    for (const n of nodes.splice(0)) await n.close();
  });
  return async (env = {}) => {
    const n = await startNode(env);
    nodes.push(n);
    return n;
  };
}

/** A kernel (XYN_WORKERS 2 unless `env` says otherwise) in a fresh temp data dir, with an engine. */
export async function startNode(env: Record<string, string> = {}, dir?: string): Promise<TestNode> {
  const tmp = dir ? undefined : tempDir();
  const path = dir ?? (tmp as ReturnType<typeof tempDir>).path;
  // Booted as `xyn serve` and `xyn run` boot theirs (src/node/), not serving: no plans resumed, no retention on a timer.
  const node = await bootNode(loadConfig({ env: { XYN_DATA_DIR: path, XYN_WORKERS: '2', ...env } }), { log: createLogger('warn', 'stderr'), engine: true });
  let closed = false;
  return {
    kernel: node.kernel,
    engine: node.engine as HxoEngine,
    dir: path,
    async close() {
      if (closed) return;
      closed = true;
      await node.stop();
      tmp?.cleanup();
    },
  };
}

const sha256 = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest();

export function specCasId(kind: string, executor: string, input: unknown): string {
  return sha256(canonicalEncode({ executor, input, kind })).toString('hex').slice(0, 16);
}

export interface SpecShard {
  cas_id: string;
  output_digest: string;
  leaf: Buffer;
}

/** Leaf of one shard from its cas_id and output, as the spec defines it. */
export function specLeaf(casId: string, output: unknown): SpecShard {
  const digest = sha256(canonicalEncode(output));
  const leaf = sha256(Buffer.concat([Buffer.from([0x00]), Buffer.from(casId, 'ascii'), digest]));
  return { cas_id: casId, output_digest: digest.toString('hex'), leaf };
}

/** Shard i of a compute.hash by_range stage (per_shard 1). */
export function specComputeHashShard(i: number, rounds = 1): SpecShard {
  const input = { end: i + 1, start: i };
  let h = sha256(canonicalEncode(input));
  for (let r = 1; r < rounds; r++) h = sha256(h);
  return specLeaf(specCasId('compute.hash', 'hash', input), { digest: h.toString('hex') });
}

/** The Merkle root of a `total`-shard compute.hash plan (by_range, per_shard 1, hash). */
export function specComputeHashRoot(total: number, rounds = 1): string {
  const leaves = new Uint8Array(total * 32);
  for (let i = 0; i < total; i++) leaves.set(specComputeHashShard(i, rounds).leaf, i * 32);
  return merkleRoot(leaves).toString('hex');
}

/** A compute.hash plan of `total` shards (memo as given; defaults otherwise). */
export function computeHashPlan(name: string, total: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    constraints: { max_shards: Math.max(1, total) },
    stages: [{ id: 'hash', kind: 'compute.hash', partitioner: 'by_range', executor: 'hash', config: { total, per_shard: 1, rounds: 1 }, ...extra }],
  };
}

/** A plan of the test.flaky kind (fixture module) with `count` shards. */
export function flakyPlan(name: string, executor: string, count: number, stage: Record<string, unknown> = {}, config: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    modules: [FLAKY_KIND],
    stages: [{ id: 'flaky', kind: 'test.flaky', partitioner: 'by_count', executor, config: { count, ...config }, ...stage }],
  };
}

/** Events of one plan under a topic pattern, in seq order. */
export function planEvents(kernel: Kernel, topic: string, planId: string): XynEvent[] {
  return kernel.bus.queryHistory({ topic, limit: 1_000_000 }).filter((e) => (e.data as { plan_id?: unknown }).plan_id === planId);
}

/** The first event under `topic` that `match` accepts, published before or after this call. */
export async function waitForEvent(kernel: Kernel, topic: string, match: (e: XynEvent) => boolean, timeoutMs = 10_000): Promise<XynEvent> {
  const sub = kernel.bus.subscribe(topic, { since: 0 });
  // The bound ends the subscription, which ends the loop below.
  AbortSignal.timeout(timeoutMs).addEventListener('abort', () => sub.unsubscribe(), { once: true });
  try {
    for await (const d of sub) if (d.type === 'event' && match(d.event)) return d.event;
    throw new Error(`no ${topic} event matched within ${timeoutMs} ms`);
  } finally {
    sub.unsubscribe();
  }
}

/** Changes the hex digit at `at` (0 ↔ 1 otherwise → 0): exactly one character differs, still lowercase hex. */
export function flipHex(hex: string, at = 0): string {
  return hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);
}

/** Every checkpoint of a plan, in (stage, shard) order: where it is, not what it says. */
export function checkpointKeys(n: TestNode, planId: string): { planId: string; stage: number; shard: number }[] {
  return storedCheckpoints(checkpointDb(n.kernel.store), planKeyRange(planId));
}

/** Every checkpoint in a key range of a checkpoints database, in key order. */
export function storedCheckpoints(db: ReturnType<typeof checkpointDb>, range: { start?: Buffer; end?: Buffer } = {}): { planId: string; stage: number; shard: number }[] {
  const out: { planId: string; stage: number; shard: number }[] = [];
  for (const { key, value } of db.getRange(range)) {
    const { planId, stage, first } = parseBlockKey(key);
    forEachBlockRecord(value, (k) => out.push({ planId, stage, shard: first + k }));
  }
  return out;
}

/**
 * Runs a one-stage plan to a certified end and reads back its shards'
 * outputs (decoded from their checkpoints, in shard order), each checked
 * with `parse` (the kind's output schema).
 */
export async function runForOutputs<T>(n: TestNode, plan: unknown, baseDir: string, parse: (output: unknown) => T): Promise<{ planId: string; report: PlanReport; outputs: T[] }> {
  const submitted = await n.engine.submit(plan, { baseDir });
  const report = await submitted.finished;
  if (report.state !== 'certified') throw new Error(`plan ${report.plan_name} ended ${report.state}: ${report.reason ?? JSON.stringify(report.failed.slice(0, 3))}`);
  const db = checkpointDb(n.kernel.store);
  const outputs = Array.from({ length: report.total_shards }, (_, i) => {
    const stored = readCheckpoint(db, submitted.planId, 0, i);
    if (!stored) throw new Error(`no checkpoint for shard ${i} of ${submitted.planId}`);
    return parse(decode(decodeCheckpoint(stored).o as Uint8Array));
  });
  return { planId: submitted.planId, report, outputs };
}
