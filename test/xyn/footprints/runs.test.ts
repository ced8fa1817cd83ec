/**
 * Footprints and impressions of real runs on a workflow node: every run its
 * run.count, every ended step its step.count and wall_ms, an action its
 * wall_ms with its name as a dimension — three attempts of one step in one
 * row — said by one xyn.footprint.recorded per step; and the impressions
 * rules give ended runs (severity by failure, anomaly past the p95), once.
 * A manual clock makes the walls exact: it moves only when the test says.
 */
import { writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.ts';
import type { FootprintRow } from '../../../src/xyn/footprints/records.ts';
import { serve, type TestServer } from '../../helpers/test-server.ts';
import { tempDir, waitFor } from '../../kernel/helpers.ts';
import { workflowNodes, type WorkflowNode } from '../runs/helpers.ts';
import { EXAMPLE_RULES } from './example-rules.ts';

const start = workflowNodes();
const files = tempDir();
afterAll(() => files.cleanup());
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const T0 = Date.parse('2026-12-01T10:00:00Z');

async function runOf(w: WorkflowNode, bp: Record<string, unknown>, inputs: Record<string, unknown> = {}) {
  await w.promote(bp);
  return w.runs.create({ blueprint_id: bp.id as string, inputs, actor: 'test', trigger: { kind: 'manual' } });
}

const rowsOf = (w: WorkflowNode, runId: string): FootprintRow[] => w.runs.footprints?.ofRun(runId) ?? [];
const pick = (rows: FootprintRow[], kind: string, ref: string, metric: string) => rows.filter((r) => r.source_kind === kind && r.source_ref === ref && r.metric === metric);

function footprintEvents(w: WorkflowNode, runId: string) {
  return w.node.kernel.events.read({ names: (n) => n === 'xyn.footprint.recorded', match: (e) => e.run_id === runId });
}

describe('footprints of a run', () => {
  it('run.count, each step its step.count and wall_ms, the action its wall_ms summed over its attempts; one event per step', async () => {
    // Each answer is held until the test lets it go: the attempts take the time the server measures, and the action's one row must hold all three.
    const held: { res: ServerResponse; at: number }[] = [];
    const spans: number[] = [];
    server = await serve((_req, res) => void held.push({ res, at: performance.now() }));
    const answering = (async () => {
      for (let call = 1; call <= 3; call++) {
        await waitFor(() => held.length > 0, 10_000, `attempt ${call}`);
        const { res, at } = held.shift() as { res: ServerResponse; at: number };
        res.writeHead(call < 3 ? 503 : 200, { 'content-type': 'application/json' }).end('{}');
        spans.push(performance.now() - at);
      }
    })();
    const clock = new ManualClock(T0);
    const w = await start({}, { clock });
    const bp = {
      id: 'fp.full',
      name: 'full',
      trigger: { event_type: 'app.never' },
      inputs: [{ name: 'url' }],
      plan: [
        { kind: 'transform', id: 'prep', outputs: { u: '{{inputs.url}}' } },
        { kind: 'action_task', id: 'fetch', action: 'http.call', with: { url: '{{steps.prep.outputs.u}}' }, retries: 2, backoff: '1ms' },
        { kind: 'gate', id: 'ok', mode: 'manual' },
        { kind: 'transform', id: 'after', outputs: { done: true } },
      ],
    };
    const run = await runOf(w, bp, { url: server.url });
    await answering;
    await waitFor(() => w.runs.get(run.run_id).waiting_on === 'ok', 10_000, 'the run to wait at its gate');
    clock.advance(5000);
    await w.runs.decide(run.run_id, 'ok', 'approved', 'ana', null);
    expect((await w.runs.ended(run.run_id)).status).toBe('completed');
    expect(w.runs.step(run.run_id, 'fetch').attempts).toBe(3);

    const rows = rowsOf(w, run.run_id);
    expect(rows).toHaveLength(1 + 4 * 2 + 1);
    expect(pick(rows, 'run', run.run_id, 'run.count')).toEqual([expect.objectContaining({ step_id: null, blueprint_id: 'fp.full', quantity: 1, unit: 'count', recorded_at: new Date(T0).toISOString() })]);
    for (const [stepId, kind, wall] of [['prep', 'transform', 0], ['fetch', 'action_task', 0], ['ok', 'gate', 5000], ['after', 'transform', 0]] as const) {
      expect(pick(rows, 'step', stepId, 'step.count'), stepId).toEqual([expect.objectContaining({ step_id: stepId, quantity: 1, unit: 'count', dims: { kind } })]);
      expect(pick(rows, 'step', stepId, 'wall_ms'), stepId).toEqual([expect.objectContaining({ step_id: stepId, quantity: wall, unit: 'ms', dims: { kind } })]);
    }
    const action = pick(rows, 'action', 'http.call', 'wall_ms');
    expect(action).toEqual([expect.objectContaining({ step_id: 'fetch', unit: 'ms', dims: { action: 'http.call' } })]);
    // Each attempt lasted at least its request's time at the server (each rounded to the ms).
    expect(action[0]?.quantity).toBeGreaterThanOrEqual(Math.floor(spans.reduce((a, b) => a + b, 0)) - 2);
    expect(spans.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

    // One event per step (and the run's), each with exactly that step's rows.
    await waitFor(() => footprintEvents(w, run.run_id).length === 5, 5000, 'the footprint events');
    const events = footprintEvents(w, run.run_id);
    expect(events.map((e) => e.step_id)).toEqual([null, 'prep', 'fetch', 'ok', 'after']);
    for (const e of events) {
      const data = e.data as { step_id: string | null; footprints: FootprintRow[]; blueprint_id: string };
      expect(data.step_id).toBe(e.step_id);
      expect(data.blueprint_id).toBe('fp.full');
      expect(data.footprints.map((r) => r.footprint_id).sort()).toEqual(rows.filter((r) => r.step_id === e.step_id).map((r) => r.footprint_id).sort());
    }
  });

  it('a skipped step and a failed one have their rows too; a failed action still its wall_ms', async () => {
    server = await serve((_req, res) => res.writeHead(404).end('no'));
    const w = await start();
    const run = await runOf(w, {
      id: 'fp.fail',
      name: 'fail',
      trigger: { event_type: 'app.never' },
      inputs: [{ name: 'url' }],
      plan: [
        { kind: 'transform', id: 'never', when: 'inputs.url == "x"', outputs: {} },
        { kind: 'action_task', id: 'get', action: 'http.call', with: { url: '{{inputs.url}}' } },
      ],
    }, { url: server.url });
    expect((await w.runs.ended(run.run_id)).status).toBe('failed');
    const rows = rowsOf(w, run.run_id);
    expect(pick(rows, 'step', 'never', 'wall_ms')).toEqual([expect.objectContaining({ quantity: 0 })]);
    expect(pick(rows, 'step', 'never', 'step.count')).toHaveLength(1);
    expect(pick(rows, 'step', 'get', 'step.count')).toHaveLength(1);
    expect(pick(rows, 'action', 'http.call', 'wall_ms')).toEqual([expect.objectContaining({ step_id: 'get', dims: { action: 'http.call' } })]);
    expect(pick(rows, 'run', run.run_id, 'run.count')).toHaveLength(1);
  });
});


describe('impressions of ended runs', () => {
  it('severity by failure, anomaly past three times the p95 of the runs before; judged once, with their basis; an event says so', async () => {
    const rules = join(files.path, 'rules.yaml');
    writeFileSync(rules, EXAMPLE_RULES);
    const clock = new ManualClock(T0);
    const w = await start({ XYN_IMPRESSION_RULES: rules }, { clock });
    const book = w.runs.footprints;
    if (!book) throw new Error('the node keeps no footprints');
    const gated = { id: 'imp.gated', name: 'gated', trigger: { event_type: 'app.never' }, plan: [{ kind: 'gate', id: 'ok', mode: 'manual' }] };
    await w.promote(gated);
    const gatedRun = async (wait: number, decision: 'approved' | 'rejected') => {
      const run = await w.runs.create({ blueprint_id: gated.id, actor: 'test', trigger: { kind: 'manual' } });
      await waitFor(() => w.runs.get(run.run_id).waiting_on === 'ok', 5000, 'the gate');
      clock.advance(wait);
      await w.runs.decide(run.run_id, 'ok', decision, 'ana', null);
      await w.runs.ended(run.run_id);
      await waitFor(() => book.impressionsOf(run.run_id) !== undefined, 5000, 'the impressions');
      return book.impressionsOf(run.run_id);
    };
    for (let i = 0; i < 3; i++) expect((await gatedRun(10, 'approved'))?.impressions).toEqual([]);
    const slow = await gatedRun(60_000, 'approved');
    expect(slow?.impressions).toEqual([{ label: 'anomaly', value: true, rule: 4 }]);
    expect(slow?.basis).toMatchObject({ run: { status: 'completed', wall_ms: 60_000 }, blueprint: { runs: 3, p95_wall_ms: 10 }, footprints: { 'run.count': 1, 'step.count': 1, wall_ms: 60_000 } });
    expect(slow?.errors).toEqual([]);
    expect((await gatedRun(10, 'rejected'))?.impressions).toEqual([{ label: 'severity', value: 'med', rule: 2 }]);
    expect(book.wallSamples(gated.id)).toEqual([10, 10, 10, 60_000, 10]);
    // A run's end told twice (an actor restarted on an ended run) is judged once: nothing more is written.
    if (!slow) throw new Error('no impressions for the slow run');
    expect(await book.saveImpressions({ ...slow, impressions: [] }, 1)).toBe(false);
    expect(book.impressionsOf(slow.run_id)?.impressions).toEqual([{ label: 'anomaly', value: true, rule: 4 }]);
    expect(book.wallSamples(gated.id)).toHaveLength(5);

    await waitFor(() => w.node.kernel.events.read({ names: (n) => n === 'xyn.impression.recorded', match: (e) => e.run_id === slow?.run_id }).length === 1, 5000, 'the impression event');
    const [event] = w.node.kernel.events.read({ names: (n) => n === 'xyn.impression.recorded', match: (e) => e.run_id === slow?.run_id });
    expect(event?.data).toEqual({ run_id: slow?.run_id, blueprint_id: gated.id, impressions: [{ label: 'anomaly', value: true, rule: 4 }] });

    server = await serve((_req, res) => res.writeHead(404).end('no'));
    const failed = await runOf(w, { id: 'imp.http', name: 'http', trigger: { event_type: 'app.never' }, inputs: [{ name: 'url' }], plan: [{ kind: 'action_task', id: 'get', action: 'http.call', with: { url: '{{inputs.url}}' } }] }, { url: server.url });
    await w.runs.ended(failed.run_id);
    await waitFor(() => book.impressionsOf(failed.run_id) !== undefined, 5000, 'the impressions');
    expect(book.impressionsOf(failed.run_id)?.impressions).toEqual([{ label: 'severity', value: 'high', rule: 1 }]);
  });

  it('a node given a rule file with a mistake does not start, naming the rule and the field', async () => {
    const rules = join(files.path, 'bad.yaml');
    writeFileSync(rules, 'impressions:\n  - label: costly\n    when: footprints.tokens_in > run.budget\n');
    await expect(start({ XYN_IMPRESSION_RULES: rules })).rejects.toThrow(`XYN_IMPRESSION_RULES: ${rules}: impressions[0].when (rule costly): "run.budget": run has no field "budget"`);
  });
});
