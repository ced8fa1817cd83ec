/**
 * compileRun: a run's inputs checked against the declared ones (defaults
 * applied), the steps' input templates filled in, step-output templates left
 * for the step's start, and the blueprint's digest kept with the run.
 */
import { describe, expect, it } from 'vitest';
import { blueprintDigest, compileRun, validateBlueprint, type Blueprint } from '../../src/xyn/blueprint/index.ts';
import { validBlueprint } from './helpers.ts';

function blueprint(change: (bp: Record<string, unknown>) => void = () => {}): Blueprint {
  const raw = validBlueprint();
  change(raw);
  const r = validateBlueprint(raw);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.blueprint;
}

describe('compileRun', () => {
  it('fills in inputs (defaults applied) and leaves step outputs for the step', () => {
    const r = compileRun(blueprint(), { host: 'db1' });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.run.inputs).toEqual({ host: 'db1', service: 'ssh' });
    expect(r.run.steps.map((s) => s.id)).toEqual(['analyze', 'approve', 'shape', 'run_fix']);
    expect(r.run.steps[0]).toMatchObject({ prompt_template: 'Alert on db1', provider: 'openai' });
    expect(r.run.steps[2]).toMatchObject({ outputs: { cmd: 'fix ssh', plan: '{{steps.analyze.outputs.json}}' } });
    expect(r.run.steps[3]).toMatchObject({ with: { host: 'db1', cmd: '{{steps.shape.outputs.cmd}}' } });
    expect(r.run.outputs).toEqual([{ name: 'summary', value: '{{steps.analyze.outputs.text}}' }]);
    expect(r.run.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(r.run.blueprint_id).toBe('bp.test.flow');
  });

  it('a whole-string input template keeps the input’s type', () => {
    const bp = blueprint((raw) => ((raw.plan as Record<string, unknown>[])[3] = { kind: 'action_task', id: 'run_fix', action: 'http.call', with: { body: '{{inputs.host}}' } }));
    const r = compileRun(bp, { host: { name: 'db1', port: 5432 } });
    expect(r.ok && r.run.steps[3]).toMatchObject({ with: { body: { name: 'db1', port: 5432 } } });
  });

  it('fills in event templates only when the run has an event', () => {
    const bp = blueprint((raw) => ((raw.plan as Record<string, unknown>[])[0]!.prompt_template = '{{event.name}} on {{inputs.host}}'));
    const withEvent = compileRun(bp, { host: 'db1' }, { name: 'checkmk.alert', data: {} });
    expect(withEvent.ok && withEvent.run.steps[0]).toMatchObject({ prompt_template: 'checkmk.alert on db1' });
    const without = compileRun(bp, { host: 'db1' });
    expect(without.ok && without.run.steps[0]).toMatchObject({ prompt_template: '{{event.name}} on {{inputs.host}}' });
  });

  it('refuses a missing required input and an unknown one, naming each', () => {
    expect(compileRun(blueprint(), { hots: 'db1', service: 'x' })).toEqual({
      ok: false,
      issues: [
        { path: 'inputs.host', message: 'required, and not given' },
        { path: 'inputs.hots', message: 'not an input of bp.test.flow (inputs are host, service)' },
      ],
    });
  });

  it('an optional input with no default, not given, is an issue where a template uses it', () => {
    const bp = blueprint((raw) => (raw.inputs = [{ name: 'host' }, { name: 'service', required: false }]));
    expect(compileRun(bp, { host: 'db1' })).toEqual({
      ok: false,
      issues: [{ path: 'plan[2].outputs', message: '{{inputs.service}} does not resolve: inputs has no "service"' }],
    });
  });

  it('the digest is the blueprint’s own: equal for equal blueprints, different for any change', () => {
    expect(blueprintDigest(blueprint())).toBe(blueprintDigest(blueprint()));
    expect(blueprintDigest(blueprint((raw) => (raw.name = 'Other')))).not.toBe(blueprintDigest(blueprint()));
    const a = compileRun(blueprint(), { host: 'a' });
    const b = compileRun(blueprint(), { host: 'b' });
    expect(a.ok && b.ok && a.run.digest === b.run.digest).toBe(true);
  });

  it('the run keeps its own copy: changing the blueprint afterwards changes nothing in it', () => {
    const bp = blueprint();
    const r = compileRun(bp, { host: 'db1' });
    (bp.plan[3] as { with: Record<string, unknown> }).with.cmd = 'rm -rf /';
    expect(r.ok && r.run.steps[3]).toMatchObject({ with: { cmd: '{{steps.shape.outputs.cmd}}' } });
  });
});
