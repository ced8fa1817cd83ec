/**
 * The engine's output queries on a real store: a plan whose hot shards
 * auto-tuning split in place reads back in leaf order — each split shard's
 * sub-shards where it stood, with `sub_shard` — from any cursor, in pages
 * that join with no gap or repeat, one stage at a time too; every output is
 * the spec's (recomputed here) and hashes to its output_digest. And the JSON
 * form of outputs keeps values JSON has not, so digests stay checkable.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.ts';
import { canonicalEncode } from '../../src/core/canonical.ts';
import { decode } from '../../src/core/codec.ts';
import { splitRange } from '../../src/hxo/partitioners/worker-partitioners.ts';
import { fromOutputJson, toOutputJson } from '../../src/hxo/executors/output-json.ts';
import type { OutputRow } from '../../src/hxo/plan-outputs.ts';
import type { PlanReport } from '../../src/hxo/report.ts';
import { FLAKY_KIND, REPO_ROOT, specCasId, specLeaf, startNode, type TestNode } from './helpers.ts';

const sha256hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

let node: TestNode;
let planId: string;
let report: PlanReport;

/** Spans of 10 over [0, 40), items from 20 on slow (shards 2 and 3 are hot and get split 4 ways); then a plain stage of 3. */
const plan = {
  name: 'outputs-split',
  modules: [FLAKY_KIND],
  stages: [
    { id: 'spans', kind: 'test.flaky', partitioner: 'by_span', executor: 'slow_span', config: { total: 40, per: 10, slow_from: 20, item_ms: 60 } },
    { id: 'tail', kind: 'test.flaky', partitioner: 'by_count', executor: 'ok', config: { count: 3 } },
  ],
};

/** Every leaf of the plan as the spec lays it out: split shards replaced in place by their sub-spans. */
function specRows(split: readonly number[]): OutputRow[] {
  const rows: OutputRow[] = [];
  const push = (stage_id: string, shard_index: number, sub: number | undefined, executor: string, input: unknown, output: unknown) => {
    const { cas_id, output_digest } = specLeaf(specCasId('test.flaky', executor, input), output);
    rows.push({ stage_id, shard_index, ...(sub !== undefined ? { sub_shard: sub } : {}), leaf_index: rows.length, cas_id, output, output_digest });
  };
  for (let i = 0; i < 4; i++) {
    const span = { end: (i + 1) * 10, start: i * 10 };
    const parts = split.includes(i) ? splitRange(span, 4) : [span];
    parts.forEach((s, k) => push('spans', i, parts.length > 1 ? k : undefined, 'slow_span', s, { end: s.end, items: s.end - s.start, start: s.start }));
  }
  for (let i = 0; i < 3; i++) push('tail', i, undefined, 'ok', { i }, { i });
  return rows;
}

beforeAll(async () => {
  node = await startNode({ HXO_AUTOSPLIT_P95_MS: '150', HXO_AUTOSPLIT_FACTOR: '4', HXO_AUTOTUNE_SAMPLE_RATE: '1' });
  const submitted = await node.engine.submit(plan, { baseDir: REPO_ROOT });
  planId = submitted.planId;
  report = await submitted.finished;
}, 60_000);
afterAll(async () => {
  await node?.close();
});

async function pages(q: { stage?: string; cursor: number; limit: number }): Promise<OutputRow[]> {
  const rows: OutputRow[] = [];
  for (let cursor: number | null = q.cursor; cursor !== null; ) {
    const page = await node.engine.outputs(planId, { ...q, cursor });
    expect(page.items.length).toBeLessThanOrEqual(q.limit);
    rows.push(...page.items);
    cursor = page.next_cursor === null ? null : Number(page.next_cursor);
  }
  return rows;
}

describe('engine.outputs on a plan with split shards', () => {
  it('reads every done shard in leaf order, sub-shards in place, each output the spec’s and hashing to its digest', async () => {
    expect(report.state).toBe('certified');
    const split = (report.splits ?? []).map((s) => s.shard_index);
    expect(split.length).toBeGreaterThan(0);
    const expected = specRows(split);
    expect(report.total_shards).toBe(expected.length);

    const all = (await node.engine.outputs(planId, { cursor: 0, limit: 1000 })).items;
    expect(all).toEqual(expected);
    for (const row of all) expect(sha256hex(canonicalEncode(fromOutputJson(row.output)))).toBe(row.output_digest);

    // Any page size, from any cursor (inside a split shard's sub-shards too): the same rows, no gap, no repeat.
    for (const limit of [1, 2, 3, 7]) expect(await pages({ cursor: 0, limit })).toEqual(expected);
    for (let cursor = 0; cursor <= expected.length; cursor++) expect(await pages({ cursor, limit: 4 })).toEqual(expected.slice(cursor));

    // One stage: its own leaves only, from wherever the cursor falls.
    const tail = expected.filter((r) => r.stage_id === 'tail');
    expect(await pages({ stage: 'tail', cursor: 0, limit: 2 })).toEqual(tail);
    expect(await pages({ stage: 'spans', cursor: 3, limit: 5 })).toEqual(expected.filter((r) => r.stage_id === 'spans' && r.leaf_index >= 3));
    expect(await pages({ stage: 'spans', cursor: expected.length, limit: 5 })).toEqual([]);

    // Streamed a page at a time: the same rows.
    const streamed = [...(await node.engine.outputPages(planId, { cursor: 0, pageSize: 3 }))].flatMap((p) => p.items);
    expect(streamed).toEqual(expected);
    await expect(node.engine.outputPages(planId, { stage: 'nope', cursor: 0 })).rejects.toThrow(ValidationError);
    await expect(node.engine.outputs(planId, { stage: 'nope', cursor: 0, limit: 5 })).rejects.toThrow(/has no stage "nope"; its stages: spans, tail/);
  });
});

describe('outputs as JSON', () => {
  it('tags bytes, big integers, dates, non-finite floats and undefined, and untags them to the same canonical bytes', () => {
    const value = { b: new Uint8Array([0, 1, 254, 255]), big: 2n ** 60n, d: new Date(86_400_000), f: [NaN, Infinity, -Infinity, 1.5], list: [undefined, 'x'], plain: { n: 1, s: 'a' } };
    const stored = canonicalEncode(value);
    const json = toOutputJson(decode(stored));
    expect(JSON.parse(JSON.stringify(json))).toEqual({
      b: { $base64: 'AAH+/w==' },
      big: { $bigint: '1152921504606846976' },
      d: { $date: '1970-01-02T00:00:00.000Z' },
      f: [{ $float: 'NaN' }, { $float: 'Infinity' }, { $float: '-Infinity' }, 1.5],
      list: [{ $undefined: true }, 'x'],
      plain: { n: 1, s: 'a' },
    });
    const back = canonicalEncode(fromOutputJson(JSON.parse(JSON.stringify(json))));
    expect(sha256hex(back)).toBe(sha256hex(stored));
    // A plain output is itself, not a copy.
    const plain = { digest: 'ab', n: [1, 2] };
    expect(toOutputJson(plain)).toBe(plain);
  });
});
