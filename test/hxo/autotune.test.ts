/**
 * Auto-tuning (seed 000 flow 4): a stage whose p95 latency is over
 * HXO_AUTOSPLIT_P95_MS gets `hxo.autotune.signal` for its hot shards; the
 * autonomy actor answers `genesis.heal` `split_shard`; HXO splits each hot
 * shard's range in place (DESIGN.md §4), journals the split, and the plan
 * certifies with the root of exactly that layout — computed here from the
 * spec, not from the engine. Running the same plan again gives the same root.
 *
 * The hot shards are real: `slow_span` (fixture kind) sleeps for every item
 * at the hot end of the range.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/env.ts';
import type { JournaledSplit } from '../../src/hxo/checkpoints/split-journal.ts';
import type { PlanReport } from '../../src/hxo/report.ts';
import { tempDir } from '../kernel/helpers.ts';
import { startXyn } from '../helpers/cli.ts';
import { merkleRoot } from '../../src/hxo/certify/merkle.ts';
import { splitRange } from '../../src/hxo/partitioners/worker-partitioners.ts';
import { verifyReport } from '../../src/hxo/certify/verify-report.ts';
import type { XynEvent } from '../../src/core/event.ts';
import { FLAKY_KIND, REPO_ROOT, planEvents, specCasId, specLeaf, startNode, waitForEvent, type TestNode } from './helpers.ts';

const waitFor = (n: TestNode, topic: string, match: (e: XynEvent) => boolean): Promise<XynEvent> => waitForEvent(n.kernel, topic, match);

const nodes: TestNode[] = [];
afterAll(async () => {
  for (const n of nodes.splice(0)) await n.close();
});

async function node(env: Record<string, string>): Promise<TestNode> {
  const n = await startNode({ HXO_AUTOSPLIT_FACTOR: '4', HXO_AUTOTUNE_SAMPLE_RATE: '1', ...env });
  nodes.push(n);
  return n;
}

/** Spans of 10 over [0, 40): items from 20 on take 60 ms each, so shards 2 and 3 take 600 ms and the others none. */
function spanPlan(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    modules: [FLAKY_KIND],
    stages: [{ id: 'spans', kind: 'test.flaky', partitioner: 'by_span', executor: 'slow_span', config: { total: 40, per: 10, slow_from: 20, item_ms: 60, ...extra } }],
  };
}

type Span = { end: number; start: number };

/** The root of the span plan with the shards in `split` replaced in place by their sub-spans (factor 4), from the spec. */
function specSpanRoot(split: number[]): string {
  const spans: Span[] = [];
  for (let i = 0; i < 4; i++) {
    const span = { end: (i + 1) * 10, start: i * 10 };
    spans.push(...(split.includes(i) ? splitRange(span, 4) : [span]));
  }
  const leaves = new Uint8Array(spans.length * 32);
  spans.forEach((span, k) => leaves.set(specLeaf(specCasId('test.flaky', 'slow_span', span), { end: span.end, items: span.end - span.start, start: span.start }).leaf, k * 32));
  return merkleRoot(leaves).toString('hex');
}

function data(events: XynEvent[]): Record<string, unknown>[] {
  return events.map((e) => e.data);
}

describe('auto-tuning: hot shards are signalled, healed by autonomy and split in place', () => {
  it('signals, heals and splits the hot shards; the plan certifies the root of the split layout, and again when run again', async () => {
    const n = await node({ HXO_AUTOSPLIT_P95_MS: '150' });
    const plan = spanPlan('hot-spans');
    const submitted = await n.engine.submit(plan, { baseDir: REPO_ROOT });
    const report = await submitted.finished;
    expect(report.state).toBe('certified');
    const { planId } = submitted;

    const signals = data(planEvents(n.kernel, 'hxo.autotune.signal', planId)).filter((s) => s.suggested_action === 'split_shard');
    expect(signals.map((s) => s.shard_index).sort()).toEqual([2, 3]);
    for (const s of signals) {
      expect(s).toMatchObject({ plan_id: planId, stage_id: 'spans', signal_type: 'hotspot', split_factor: 4 });
      expect(s.metric_value as number).toBeGreaterThan(150);
      expect(s.cas_id).toBe(specCasId('test.flaky', 'slow_span', { end: (s.shard_index as number) * 10 + 10, start: (s.shard_index as number) * 10 }));
      expect(typeof s.timestamp).toBe('string');
    }
    const heals = data(planEvents(n.kernel, 'genesis.heal', planId));
    expect(heals.map((h) => h.parameters).sort((a, b) => (a as { shard_index: number }).shard_index - (b as { shard_index: number }).shard_index)).toEqual([
      { stage_id: 'spans', shard_index: 2, split_factor: 4 },
      { stage_id: 'spans', shard_index: 3, split_factor: 4 },
    ]);
    expect(heals.every((h) => h.source === 'autonomy' && h.action === 'split_shard')).toBe(true);
    const applied = data(planEvents(n.kernel, 'hxo.autotune.applied', planId));
    expect(applied.map((a) => [a.shard_index, a.sub_shards]).sort()).toEqual([
      [2, 4],
      [3, 4],
    ]);
    expect(planEvents(n.kernel, 'hxo.alert', planId)).toEqual([]);

    // 4 shards, two of them replaced by 4 sub-shards each: 10 leaves, in place.
    expect(report.total_shards).toBe(10);
    expect(report.done_shards).toBe(10);
    expect(report.splits).toEqual([
      { stage_id: 'spans', shard_index: 2, split_factor: 4, sub_shards: 4, first_leaf: 2 },
      { stage_id: 'spans', shard_index: 3, split_factor: 4, sub_shards: 4, first_leaf: 6 },
    ]);
    expect(report.merkle_root).toBe(specSpanRoot([2, 3]));
    expect(verifyReport(JSON.parse(JSON.stringify(report))).ok).toBe(true);

    // The same plan run again (the same digest, another plan id): the journal
    // lays it out as before, whatever the timing, so the root is the same.
    const rerun = await n.engine.submit(plan, { baseDir: REPO_ROOT, planId: `${planId}-rerun` });
    const third = await rerun.finished;
    expect(third.merkle_root).toBe(report.merkle_root);
    expect(third.splits).toEqual(report.splits);
    expect(third.reused_shards).toBe(10);
    expect(data(planEvents(n.kernel, 'genesis.heal', `${planId}-rerun`))).toEqual([]);
  });

  it('a node killed after a split resumes with the journaled layout and certifies its root', async () => {
    const tmp = tempDir();
    try {
      const planFile = join(tmp.path, 'plan.json');
      const data = join(tmp.path, 'data');
      writeFileSync(planFile, JSON.stringify(spanPlan('hot-spans-killed')));
      const args = ['run', planFile, '--data', data, '--json'];
      const first = startXyn(args, { HXO_AUTOSPLIT_P95_MS: '150', HXO_AUTOTUNE_SAMPLE_RATE: '1', HXO_AUTOSPLIT_FACTOR: '4' });
      // Killed as soon as a split is journaled (read from its store, as another process may).
      let store: Store | undefined;
      const journaled = (): JournaledSplit[] => {
        if (!store && existsSync(join(data, 'store', 'data.mdb'))) store = openStore({ path: join(data, 'store') });
        return store ? [...store.db<string, JournaledSplit>('splits').getRange({})].map((e) => e.value) : [];
      };
      while (journaled().length === 0 && !first.done()) await sleep(10);
      first.kill();
      expect((await first.exited).signal).toBe('SIGKILL');
      const splits = journaled().map((s) => s.shard).sort();
      await store?.close();
      expect(splits.length).toBeGreaterThan(0);

      // Started again (auto-tuning quiet now), the same command resumes the same plan in the same layout.
      const second = startXyn(args, { HXO_AUTOSPLIT_P95_MS: '100000' });
      const outcome = await second.exited;
      expect(outcome.code, outcome.stderr).toBe(0);
      const report = JSON.parse(outcome.stdout) as PlanReport;
      expect(report.state).toBe('certified');
      expect(report.splits?.map((s) => s.shard_index)).toEqual(splits);
      expect(report.total_shards).toBe(4 + 3 * splits.length);
      expect(report.merkle_root).toBe(specSpanRoot(splits));
    } finally {
      tmp.cleanup();
    }
  });

  it('signals nothing when the sample rate is 0 or a genesis.intent turns auto-tuning off, and refuses bad intents', async () => {
    const quiet = await node({ HXO_AUTOSPLIT_P95_MS: '150', HXO_AUTOTUNE_SAMPLE_RATE: '0' });
    const a = await quiet.engine.submit(spanPlan('unsampled'), { baseDir: REPO_ROOT });
    expect((await a.finished).merkle_root).toBe(specSpanRoot([]));
    expect(planEvents(quiet.kernel, 'hxo.autotune.signal', a.planId)).toEqual([]);

    const n = await node({ HXO_AUTOSPLIT_P95_MS: '150' });
    await n.kernel.bus.publish('genesis.intent', { source: 'autonomy', intent: 'autotune', parameters: { enabled: false } });
    await waitFor(n, 'hxo.autotune.policy', (e) => (e.data.policy as { enabled: boolean }).enabled === false);
    const b = await n.engine.submit(spanPlan('tuning-off'), { baseDir: REPO_ROOT });
    expect((await b.finished).merkle_root).toBe(specSpanRoot([]));
    expect(planEvents(n.kernel, 'hxo.autotune.signal', b.planId)).toEqual([]);

    await n.kernel.bus.publish('genesis.intent', { source: 'ops', intent: 'reboot', parameters: {} });
    const refused = await waitFor(n, 'hxo.alert', (e) => e.data.alert_type === 'intent_refused');
    expect(refused.data.message).toMatch(/^genesis\.intent\.intent: /);
    await n.kernel.bus.publish('genesis.intent', { intent: 'autotune', parameters: { split_factor: 1000 } });
    const tooBig = await waitFor(n, 'hxo.alert', (e) => e.data.alert_type === 'intent_refused' && String(e.data.message).includes('split_factor'));
    expect(tooBig.data.message).toMatch(/^genesis\.intent\.parameters\.split_factor: /);
  });

  it('applies a heal on a pending shard, and refuses the ones it cannot carry out, naming why', async () => {
    // Auto-tuning never fires here: every split comes from a heal published by hand.
    const n = await node({ HXO_AUTOSPLIT_P95_MS: '100000' });
    const plan = {
      name: 'healed-by-hand',
      modules: [FLAKY_KIND],
      stages: [
        { id: 'slow', kind: 'test.flaky', partitioner: 'by_count', executor: 'slow', config: { count: 6, ms: 150 } },
        { id: 'spans', kind: 'test.flaky', partitioner: 'by_span', executor: 'slow_span', config: { total: 40, per: 10, slow_from: 0, item_ms: 5 } },
      ],
    };
    const submitted = await n.engine.submit(plan, { baseDir: REPO_ROOT });
    const { planId } = submitted;
    const heal = (parameters: Record<string, unknown>, planIdOf = planId) =>
      n.kernel.bus.publish('genesis.heal', { source: 'test', plan_id: planIdOf, action: 'split_shard', parameters });
    const outcome = async (parameters: Record<string, unknown>, planIdOf = planId): Promise<XynEvent> => {
      const published = await heal(parameters, planIdOf);
      return waitFor(n, 'hxo.>', (e) => e.data.request_event_id === published.event_id);
    };

    // Shard 3 of `spans` is still pending while `slow` runs: split it 2 ways.
    const applied = await outcome({ stage_id: 'spans', shard_index: 3, split_factor: 2 });
    expect(applied.event_name).toBe('hxo.autotune.applied');
    expect(applied.data).toMatchObject({ shard_index: 3, sub_shards: 2, split_factor: 2, first_leaf: 9, total_shards: 11 });

    const refusals: [Record<string, unknown>, RegExp, string?][] = [
      [{ stage_id: 'spans', shard_index: 3 }, /split already/],
      [{ stage_id: 'spans', shard_index: 4 }, /has no shard 4 \(0\.\.3\)/],
      [{ stage_id: 'slow', shard_index: 5 }, /cannot be split: its partitioner by_count cannot split/],
      [{ stage_id: 'nope', shard_index: 0 }, /has no stage "nope"/],
      [{ stage_id: 'spans', shard_index: -1 }, /^genesis\.heal\.parameters\.shard_index: /],
      [{ stage_id: 'spans', shard_index: 0 }, /is not running on this node/, 'no-such-plan'],
    ];
    for (const [parameters, reason, other] of refusals) {
      const refused = await outcome(parameters, other);
      expect(refused.event_name).toBe('hxo.alert');
      expect(refused.data.alert_type).toBe('heal_refused');
      expect(refused.data.message).toMatch(reason);
    }
    const unknownAction = await n.kernel.bus.publish('genesis.heal', { plan_id: planId, action: 'restart_node', parameters: { stage_id: 'spans', shard_index: 0 } });
    const refusedAction = await waitFor(n, 'hxo.alert', (e) => e.data.request_event_id === unknownAction.event_id);
    expect(refusedAction.data.message).toMatch(/^genesis\.heal\.action: the only heal action is "split_shard"/);

    const report = await submitted.finished;
    expect(report.state).toBe('certified');
    expect(report.total_shards).toBe(11);
    expect(report.splits).toEqual([{ stage_id: 'spans', shard_index: 3, split_factor: 2, sub_shards: 2, first_leaf: 9 }]);
    const slow = Array.from({ length: 6 }, (_, i) => specLeaf(specCasId('test.flaky', 'slow', { i }), { i }).leaf);
    const spans = [0, 1, 2].map((i) => ({ end: i * 10 + 10, start: i * 10 })).concat(splitRange({ end: 40, start: 30 }, 2));
    const leaves = Buffer.concat([...slow, ...spans.map((s) => specLeaf(specCasId('test.flaky', 'slow_span', s), { end: s.end, items: s.end - s.start, start: s.start }).leaf)]);
    expect(report.merkle_root).toBe(merkleRoot(leaves).toString('hex'));
    // A heal for a plan that has ended is refused too.
    const late = await outcome({ stage_id: 'spans', shard_index: 0 });
    expect(late.data.message).toMatch(/is not running on this node/);
  });
});
