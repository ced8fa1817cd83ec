/**
 * Getting results out, over a real uWebSockets.js server on loopback: a
 * plan's outputs as JSON pages and as a streamed NDJSON body, each output
 * checked against the spec recomputed here (not by the engine) and against
 * the plan's proofs; a 200,000-shard stream that the server writes only as
 * fast as its client reads; and artifacts by sha256, as bytes.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalEncode } from '../../src/core/canonical.ts';
import { decode } from '../../src/core/codec.ts';
import { verifyInclusion } from '../../src/hxo/certify/merkle.ts';
import type { OutputRow } from '../../src/hxo/plan-outputs.ts';
import type { PlanStatus } from '../../src/hxo/report.ts';
import { tempDir, waitFor } from '../kernel/helpers.ts';
import { REPO_ROOT, computeHashPlan, flakyPlan, specComputeHashShard } from '../hxo/helpers.ts';
import { startApi, type Answer, type TestApi } from './helpers.ts';

const NDJSON = 'application/x-ndjson';
const sha256 = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest();

let api: TestApi;
const dir = tempDir();
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
  dir.cleanup();
});

/** compute.hash shard i's output as the spec defines it: {digest: hex of `rounds` sha256 over canonical(input)}. */
function specOutput(i: number, rounds = 1): { digest: string } {
  let h = sha256(canonicalEncode({ end: i + 1, start: i }));
  for (let r = 1; r < rounds; r++) h = sha256(h);
  return { digest: h.toString('hex') };
}

/** Checks an output row of shard i of a compute.hash stage against the spec, independently of the engine. */
function expectSpecRow(row: OutputRow, i: number, where: { stage?: string; leaf?: number; rounds?: number } = {}): void {
  const spec = specComputeHashShard(i, where.rounds);
  const expected = { stage_id: where.stage ?? 'hash', shard_index: i, leaf_index: where.leaf ?? i, cas_id: spec.cas_id, output: specOutput(i, where.rounds), output_digest: spec.output_digest };
  expect(row).toEqual(expected);
  expect(sha256(canonicalEncode(row.output)).toString('hex')).toBe(row.output_digest);
}

async function runPlan(plan: Record<string, unknown>, baseDir = REPO_ROOT): Promise<string> {
  const submitted = await api.node.engine.submit(plan, { baseDir });
  const report = await submitted.finished;
  expect(report.state, report.reason).toBe('certified');
  return submitted.planId;
}

async function allPages(path: string): Promise<{ items: OutputRow[]; pages: number }> {
  const items: OutputRow[] = [];
  let pages = 0;
  for (let cursor: string | null = '0'; cursor !== null; pages++) {
    const page: Answer = await api.call('GET', `${path}${path.includes('?') ? '&' : '?'}cursor=${cursor}`);
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    items.push(...(page.body.items as OutputRow[]));
    cursor = page.body.next_cursor as string | null;
  }
  return { items, pages };
}

async function ndjson(path: string): Promise<{ status: number; type: string | null; rows: OutputRow[]; text: string }> {
  const res = await fetch(api.url + path, { headers: { authorization: `Bearer ${api.tokens.admiral}`, accept: NDJSON } });
  const text = await res.text();
  const rows = res.ok ? text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as OutputRow) : [];
  return { status: res.status, type: res.headers.get('content-type'), rows, text };
}

function expectError(answer: { status: number; body: Record<string, unknown> }, status: number, code: string, message: RegExp): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  const error = answer.body.error as { code: string; message: string };
  expect(error.code).toBe(code);
  expect(error.message).toMatch(message);
}

describe('GET /api/hxo/outputs/{id}', () => {
  it("pages a compute.hash plan's outputs in leaf order: each the spec's output, its digest sha256(canonical(output)), its leaf on the plan's proof", async () => {
    const planId = await runPlan(computeHashPlan('outputs-300', 300));
    const first = await api.call('GET', `/api/hxo/outputs/${planId}?limit=120`);
    expect(first.status).toBe(200);
    expect((first.body.items as unknown[]).length).toBe(120);
    expect(first.body.next_cursor).toBe('120');
    const { items, pages } = await allPages(`/api/hxo/outputs/${planId}?limit=120`);
    expect(pages).toBe(3);
    expect(items).toHaveLength(300);
    items.forEach((row, i) => expectSpecRow(row, i));

    // Each row checks against the plan's proofs: its leaf, recomputed from cas_id and output_digest, is the proof's leaf.
    const row = items[217] as OutputRow;
    const proof = await api.call('GET', `/api/hxo/proof/${planId}/${row.cas_id}`);
    const leaf = sha256(Buffer.concat([Buffer.from([0]), Buffer.from(row.cas_id, 'ascii'), Buffer.from(row.output_digest, 'hex')]));
    expect(proof.body).toMatchObject({ leaf_index: 217, leaf_hash: leaf.toString('hex'), root_hash: api.node.engine.report(planId).merkle_root });
    expect(verifyInclusion(proof.body)).toBe(true);

    // NDJSON: the same rows, streamed; from a cursor, the rest.
    const streamed = await ndjson(`/api/hxo/outputs/${planId}`);
    expect(streamed.status).toBe(200);
    expect(streamed.type).toBe(NDJSON);
    expect(streamed.rows).toEqual(items);
    expect((await ndjson(`/api/hxo/outputs/${planId}?cursor=250`)).rows).toEqual(items.slice(250));
    expect((await ndjson(`/api/hxo/outputs/${planId}?cursor=300`)).text).toBe('');
    expect(await api.call('GET', `/api/hxo/outputs/${planId}?cursor=299`)).toMatchObject({ body: { items: [items[299]], next_cursor: null } });
  });

  it("one stage's outputs with ?stage=; an unknown stage is a 400 naming it, an unknown plan a 404, in both forms", async () => {
    const plan = {
      name: 'outputs-two-stages',
      stages: [
        { id: 'a', kind: 'compute.hash', partitioner: 'by_range', executor: 'hash', config: { total: 5, per_shard: 1, rounds: 1 } },
        { id: 'b', kind: 'compute.hash', partitioner: 'by_range', executor: 'hash', config: { total: 7, per_shard: 1, rounds: 2 } },
      ],
    };
    const planId = await runPlan(plan);
    const b = await allPages(`/api/hxo/outputs/${planId}?stage=b&limit=3`);
    expect(b.pages).toBe(3);
    expect(b.items).toHaveLength(7);
    b.items.forEach((row, i) => expectSpecRow(row, i, { stage: 'b', leaf: 5 + i, rounds: 2 }));
    const a = await allPages(`/api/hxo/outputs/${planId}?stage=a`);
    expect(a.items).toHaveLength(5);
    a.items.forEach((row, i) => expectSpecRow(row, i, { stage: 'a' }));
    // A cursor inside another stage starts at the asked stage; the whole plan is a then b.
    expect((await ndjson(`/api/hxo/outputs/${planId}?stage=b&cursor=2`)).rows).toEqual(b.items);
    expect((await ndjson(`/api/hxo/outputs/${planId}`)).rows).toEqual([...a.items, ...b.items]);

    expectError(await api.call('GET', `/api/hxo/outputs/${planId}?stage=c`), 400, 'bad_request', /no stage "c"; its stages: a, b/);
    const streamedUnknown = await fetch(`${api.url}/api/hxo/outputs/${planId}?stage=c`, { headers: { authorization: `Bearer ${api.tokens.admiral}`, accept: NDJSON } });
    expectError({ status: streamedUnknown.status, body: (await streamedUnknown.json()) as Record<string, unknown> }, 400, 'bad_request', /no stage "c"/);
    expectError(await api.call('GET', '/api/hxo/outputs/no-such-plan'), 404, 'not_found', /no plan no-such-plan/);
    expect((await ndjson('/api/hxo/outputs/no-such-plan')).status).toBe(404);
    expectError(await api.call('GET', `/api/hxo/outputs/${planId}?cursor=-1`), 400, 'bad_request', /^query\.cursor: /);
    expectError(await api.call('GET', `/api/hxo/outputs/${planId}?limit=0`), 400, 'bad_request', /^query\.limit: /);
    expectError(await api.call('GET', `/api/hxo/outputs/${planId}`, { token: api.tokens.viewer }), 403, 'forbidden', /hxo:view/);
  });

  it("a running plan's outputs so far: only done shards, in leaf order", async () => {
    const submitted = await api.call('POST', '/api/hxo/create-and-submit', { body: flakyPlan('outputs-running', 'slow', 400, {}, { ms: 10 }) });
    const planId = submitted.body.plan_id as string;
    await waitFor(() => (api.node.engine.status(planId) as PlanStatus).done_shards >= 20, 30_000, 'progress');
    const { items } = await allPages(`/api/hxo/outputs/${planId}?limit=50`);
    expect(api.node.engine.abort(planId)).toBe(true);
    expect(items.length).toBeGreaterThanOrEqual(20);
    const leaves = items.map((r) => r.leaf_index);
    expect(leaves).toEqual([...leaves].sort((x, y) => x - y));
    for (const row of items) {
      expect(row.output).toEqual({ i: row.shard_index });
      expect(sha256(canonicalEncode(row.output)).toString('hex')).toBe(row.output_digest);
    }
    await api.node.engine.idle();
  });

  it('streams the NDJSON of a 200,000-shard plan completely, writing only as fast as the client reads', async () => {
    const total = 200_000;
    const planId = await runPlan(computeHashPlan('outputs-200k', total, { memo: false }));
    const before = api.server.httpStreams();
    const req = get(`${api.url}/api/hxo/outputs/${planId}`, { headers: { authorization: `Bearer ${api.tokens.admiral}`, accept: NDJSON } });
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(NDJSON);
    // The client takes nothing: once the socket is full, the server waits for it and reads no more pages.
    res.pause();
    await waitFor(() => api.server.httpStreams().waiting > 0, 30_000, 'the stream to wait for its client');
    const stalled = api.server.httpStreams();
    expect(stalled.open).toBe(before.open + 1);
    const writtenWhileStalled = stalled.bytes - before.bytes;

    let received = 0;
    res.on('data', (b: Buffer) => (received += b.length));
    let n = 0;
    for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
      const row = JSON.parse(line) as OutputRow;
      // Every 997th row against the spec in full; every row in leaf order.
      if (n % 997 === 0) expectSpecRow(row, n);
      else expect(row.leaf_index).toBe(n);
      n++;
    }
    expect(n).toBe(total);
    const after = api.server.httpStreams();
    expect(after.bytes - before.bytes).toBe(received);
    expect(after).toMatchObject({ open: before.open, waiting: 0, completed: before.completed + 1, cut: before.cut });
    // While the client read nothing the server had written a small part of the body: socket buffers and a page.
    expect(writtenWhileStalled).toBeLessThan(received / 4);
    console.log(`outputs stream: ${received} bytes, ${writtenWhileStalled} written while the client read nothing`);
  }, 180_000);

  it('a client that goes away midway cuts its stream: the server stops and counts it', async () => {
    const planId = (api.node.engine.list().find((p) => p.plan_name === 'outputs-200k') as { plan_id: string }).plan_id;
    const before = api.server.httpStreams();
    const req = get(`${api.url}/api/hxo/outputs/${planId}`, { headers: { authorization: `Bearer ${api.tokens.admiral}`, accept: NDJSON } });
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    await once(res, 'data');
    req.destroy();
    await waitFor(() => api.server.httpStreams().cut !== before.cut, 30_000, 'the stream to be cut');
    expect(api.server.httpStreams()).toMatchObject({ open: before.open, completed: before.completed, cut: before.cut + 1 });
    expect((await api.call('GET', '/api/v1/health')).status).toBe(200);
  });
});

describe('GET /api/hxo/artifacts/{sha256}', () => {
  it("serves an artifact's bytes by sha256: the index a docs.index shard stored; 400 malformed, 404 unknown", async () => {
    mkdirSync(join(dir.path, 'site'));
    writeFileSync(join(dir.path, 'site', 'index.md'), '# Outputs\n\nShards produce outputs; outputs name artifacts.\n');
    writeFileSync(join(dir.path, 'site', 'routes.json'), JSON.stringify({ '/': 'index.md' }));
    const planId = await runPlan({ name: 'outputs-docs', stages: [{ id: 'docs', kind: 'docs.index', partitioner: 'by_route_map', executor: 'docs_index', config: { root: 'site' } }] }, dir.path);
    const [row] = (await api.call('GET', `/api/hxo/outputs/${planId}`)).body.items as OutputRow[];
    const output = (row as OutputRow).output as { index: string; title: string };
    expect(output.title).toBe('Outputs');

    const res = await fetch(`${api.url}/api/hxo/artifacts/${output.index}`, { headers: { authorization: `Bearer ${api.tokens.admiral}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(bytes.length);
    expect(sha256(bytes).toString('hex')).toBe(output.index);
    expect(decode(bytes)).toMatchObject({ route: '/', file: 'index.md', title: 'Outputs', terms: { artifacts: 1, shards: 1 } });
    const upper = await fetch(`${api.url}/api/hxo/artifacts/${output.index.toUpperCase()}`, { headers: { authorization: `Bearer ${api.tokens.operator}` } });
    expect(Buffer.from(await upper.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);

    expectError(await api.call('GET', '/api/hxo/artifacts/abc'), 400, 'bad_request', /64 hex digits/);
    expectError(await api.call('GET', `/api/hxo/artifacts/${'g'.repeat(64)}`), 400, 'bad_request', /64 hex digits/);
    expectError(await api.call('GET', `/api/hxo/artifacts/${'0'.repeat(64)}`), 404, 'not_found', /no artifact 0{64}/);
    expectError(await api.call('GET', `/api/hxo/artifacts/${output.index}`, { token: api.tokens.viewer }), 403, 'forbidden', /hxo:view/);
  });
});
