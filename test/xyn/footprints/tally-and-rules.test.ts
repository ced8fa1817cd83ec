/**
 * The parts of footprints and impressions that need no node: a step's tally
 * (one row per source, ref and metric: repeated records summed), and the
 * impression rules — parsed with their mistakes named, evaluated over a
 * run's outcome and footprints (billable, severity, anomaly).
 */
import { describe, expect, it } from 'vitest';
import { FootprintTally } from '../../../src/xyn/footprints/footprint-tally.ts';
import { evaluateImpressions, parseImpressionRules, type ImpressionScope } from '../../../src/xyn/footprints/impression-rules.ts';
import { EXAMPLE_RULES } from './example-rules.ts';

const scope = { run_id: 'r1', step_id: 'ask', blueprint_id: 'bp.t' };

describe('a step tally', () => {
  it('sums three records of one metric into one row, keeping the dims they share', () => {
    const tally = new FootprintTally(scope);
    const port = tally.port('action', 'llm.ask');
    port.record({ metric: 'tokens_in', quantity: 100, unit: 'tokens', dims: { provider: 'openai', model: 'a' } });
    port.record({ metric: 'tokens_in', quantity: 20, unit: 'tokens', dims: { provider: 'openai', model: 'b' } });
    port.record({ metric: 'tokens_in', quantity: 3, unit: 'tokens', dims: { provider: 'openai', model: 'b' } });
    port.record({ metric: 'tokens_out', quantity: 7, unit: 'tokens' });
    tally.port('step', 'ask').record({ metric: 'tokens_in', quantity: 1, unit: 'tokens' });
    const rows = tally.close(Date.parse('2026-12-01T10:00:00Z'));
    expect(rows.map((r) => [r.source_kind, r.source_ref, r.metric, r.quantity, r.dims])).toEqual([
      ['action', 'llm.ask', 'tokens_in', 123, { provider: 'openai' }],
      ['action', 'llm.ask', 'tokens_out', 7, {}],
      ['step', 'ask', 'tokens_in', 1, {}],
    ]);
    expect(rows[0]).toMatchObject({ run_id: 'r1', step_id: 'ask', blueprint_id: 'bp.t', unit: 'tokens', recorded_at: '2026-12-01T10:00:00.000Z' });
    expect(new Set(rows.map((r) => r.footprint_id)).size).toBe(3);
  });

  it('ignores what is recorded once the step has ended', () => {
    const tally = new FootprintTally(scope);
    const port = tally.port('action', 'http.call');
    port.record({ metric: 'bytes_in', quantity: 5, unit: 'bytes' });
    expect(tally.close(0)).toHaveLength(1);
    port.record({ metric: 'bytes_in', quantity: 5, unit: 'bytes' });
    expect(tally.close(0)).toHaveLength(1);
  });

  it('refuses a footprint it cannot record, naming the field', () => {
    const port = new FootprintTally(scope).port('action', 'http.call');
    expect(() => port.record({ metric: 'Bytes In', quantity: 1, unit: 'bytes' })).toThrow(/http\.call: footprint metric must be a lowercase name/);
    expect(() => port.record({ metric: 'bytes_in', quantity: -1, unit: 'bytes' })).toThrow(/footprint quantity must be a finite number of at least 0/);
    expect(() => port.record({ metric: 'bytes_in', quantity: Number.NaN, unit: 'bytes' })).toThrow(/quantity/);
    expect(() => port.record({ metric: 'bytes_in', quantity: 1, unit: '' })).toThrow(/footprint unit/);
    expect(() => port.record({ metric: 'bytes_in', quantity: 1, unit: 'bytes', dims: { url: 'x'.repeat(200) } })).toThrow(/dims\.url is 200 characters long/);
    port.record({ metric: 'bytes_in', quantity: 1, unit: 'bytes' });
    expect(() => port.record({ metric: 'bytes_in', quantity: 1, unit: 'kb' })).toThrow(expect.objectContaining({ code: 'FOOTPRINT_INVALID', message: expect.stringMatching(/recorded in bytes, now in kb/) }));
  });
});


function runScope(run: Partial<ImpressionScope['run']>, footprints: Record<string, number> = {}, blueprint: ImpressionScope['blueprint'] = { runs: 0, p95_wall_ms: null }): ImpressionScope {
  return {
    run: { status: 'completed', blueprint_id: 'bp.t', blueprint_version: 1, trigger: 'manual', wall_ms: 100, active_ms: 100, error_code: null, failed_step: null, step_count: 2, ...run },
    footprints: { 'run.count': 1, ...footprints },
    blueprint,
  };
}

const labels = (s: ImpressionScope) => Object.fromEntries(evaluateImpressions(parseImpressionRules(EXAMPLE_RULES, 'rules.yaml'), s).impressions.map((i) => [i.label, i.value]));

describe('impression rules', () => {
  it('billable when tokens in and out pass the threshold', () => {
    expect(labels(runScope({}, { tokens_in: 700, tokens_out: 301 }))).toEqual({ billable: true });
    expect(labels(runScope({}, { tokens_in: 700, tokens_out: 300 }))).toEqual({});
    expect(labels(runScope({}))).toEqual({});
  });

  it('severity by the kind of failure: the first rule of a label that holds gives it', () => {
    expect(labels(runScope({ status: 'failed', error_code: 'HTTP_STATUS' }))).toEqual({ severity: 'high' });
    expect(labels(runScope({ status: 'failed', error_code: 'GATE_REJECTED' }))).toEqual({ severity: 'med' });
    expect(labels(runScope({ status: 'failed', error_code: 'ACTION_INPUT' }))).toEqual({ severity: 'low' });
    expect(labels(runScope({ status: 'completed' }))).toEqual({});
  });

  it('anomaly past three times the p95, once there are enough earlier runs', () => {
    expect(labels(runScope({ wall_ms: 3001 }, {}, { runs: 3, p95_wall_ms: 1000 }))).toEqual({ anomaly: true });
    expect(labels(runScope({ wall_ms: 3000 }, {}, { runs: 3, p95_wall_ms: 1000 }))).toEqual({});
    expect(labels(runScope({ wall_ms: 99_999 }, {}, { runs: 2, p95_wall_ms: 1000 }))).toEqual({});
    expect(labels(runScope({ wall_ms: 99_999 }, {}, { runs: 0, p95_wall_ms: null }))).toEqual({});
  });

  it('reads a metric with a dot in its name by its quoted key', () => {
    const rules = parseImpressionRules('impressions: [{label: many, when: \'footprints["step.count"] > 2\'}]', 'r.yaml');
    expect(evaluateImpressions(rules, runScope({}, { 'step.count': 3 })).impressions).toEqual([{ label: 'many', value: true, rule: 0 }]);
    expect(evaluateImpressions(rules, runScope({}, { 'step.count': 2 })).impressions).toEqual([]);
  });

  it('a rule that fails on a run gives no label and says why; the others still judge', () => {
    const rules = parseImpressionRules('impressions: [{label: big, when: "footprints.tokens_in > 10"}, {label: failed, when: "run.status == \\"failed\\""}]', 'r.yaml');
    const out = evaluateImpressions(rules, runScope({ status: 'failed' }));
    expect(out.impressions).toEqual([{ label: 'failed', value: true, rule: 1 }]);
    expect(out.errors).toEqual([{ rule: 0, message: expect.stringMatching(/footprints has no "tokens_in"/) }]);
  });

  it('a file with a mistake is refused naming the rule and the field', () => {
    const refused = (text: string) => {
      try {
        parseImpressionRules(text, '/etc/xyn/rules.yaml');
      } catch (err) {
        expect(err).toMatchObject({ code: 'CONFIG', details: { variable: 'XYN_IMPRESSION_RULES' } });
        return (err as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refused('impressions: [{label: slow, when: "run.wall_secs > 10"}]')).toBe(
      'XYN_IMPRESSION_RULES: /etc/xyn/rules.yaml: impressions[0].when (rule slow): "run.wall_secs": run has no field "wall_secs" (it has status, blueprint_id, blueprint_version, trigger, wall_ms, active_ms, error_code, failed_step, step_count)',
    );
    expect(refused('impressions: [{label: a, when: "true"}, {label: slow, when: "run.wall_ms >"}]')).toMatch(/^XYN_IMPRESSION_RULES: \/etc\/xyn\/rules\.yaml: impressions\[1\]\.when \(rule slow\): /);
    expect(refused('impressions: [{label: x, when: "inputs.a"}]')).toMatch(/impressions\[0\]\.when \(rule x\): "inputs\.a" starts with "inputs": a rule reads run, footprints or blueprint/);
    expect(refused('impressions: [{label: x, when: "blueprint.p99 > 1"}]')).toMatch(/blueprint has no field "p99"/);
    expect(refused('impressions: [{label: x, when: "footprints.run.count > 1"}]')).toMatch(/"footprints\.run\.count" reads into footprints\.run, which holds no fields: a metric with dots in its name is read as footprints\["run\.count"\]/);
    expect(refused('impressions: [{label: sev, value: "{{ run.status }}", when: "true"}]')).toMatch(/impressions\[0\]\.value: is a literal, not a template.*\(rule sev\)/);
    expect(refused('impressions: [{label: "bad label", when: "true"}]')).toMatch(/impressions\[0\]\.label: must be an identifier/);
    expect(refused('impressions: [{label: x}]')).toMatch(/impressions\[0\]\.when: .*\(rule x\)/);
    expect(refused('rules: []')).toMatch(/rules\.yaml: /);
    expect(refused('impressions: [')).toMatch(/not valid YAML or JSON/);
  });
});
