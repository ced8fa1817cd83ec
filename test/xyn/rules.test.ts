/**
 * Every validation rule of the blueprint format, one row each: the change
 * that breaks it, and the issue it must give (its path, and words of its
 * message). Rows change a valid blueprint, so each row fails for its own rule.
 */
import { describe, expect, it } from 'vitest';
import { ACTION_NAMES, validateBlueprint } from '../../src/xyn/blueprint/index.ts';
import { issuesWith, step, validBlueprint } from './helpers.ts';

type Bp = Record<string, unknown> & { plan: Record<string, unknown>[] };
const ROWS: [rule: string, change: (bp: Bp) => void, path: string, message: string | RegExp][] = [
  ['id required', (bp) => delete bp.id, 'id', 'required'],
  ['id pattern', (bp) => (bp.id = 'Bp.Upper'), 'id', 'lowercase letters'],
  ['id starts with a letter', (bp) => (bp.id = '1bp'), 'id', 'starting with a letter'],
  ['id at most 128 characters', (bp) => (bp.id = 'a'.repeat(129)), 'id', 'longer than 128'],
  ['name required', (bp) => delete bp.name, 'name', 'required'],
  ['name not empty', (bp) => (bp.name = ''), 'name', 'must not be empty'],
  ['trigger required', (bp) => delete bp.trigger, 'trigger', 'required'],
  ['trigger needs one of event_type, cron', (bp) => (bp.trigger = {}), 'trigger', 'exactly one of event_type or cron'],
  ['trigger not both', (bp) => (bp.trigger = { event_type: 'a.b', cron: '* * * * *' }), 'trigger', 'not both'],
  ['event_type a subject pattern', (bp) => (bp.trigger = { event_type: 'a..b' }), 'trigger.event_type', 'token 2'],
  ['> only last', (bp) => (bp.trigger = { event_type: 'a.>.b' }), 'trigger.event_type', '">" as the last token'],
  ['cron 5 or 6 fields', (bp) => (bp.trigger = { cron: '* * * *' }), 'trigger.cron', 'has 4 fields'],
  ['cron 7 fields refused', (bp) => (bp.trigger = { cron: '0 0 0 * * * 2030' }), 'trigger.cron', 'has 7 fields'],
  ['cron fields valid', (bp) => (bp.trigger = { cron: '61 * * * *' }), 'trigger.cron', 'not valid'],
  ['timezone IANA', (bp) => (bp.trigger = { cron: '0 3 * * *', timezone: 'Mars/Olympus' }), 'trigger.timezone', 'IANA'],
  ['timezone only with cron', (bp) => (bp.trigger = { event_type: 'a.b', timezone: 'UTC' }), 'trigger.timezone', 'only to a cron'],
  ['trigger unknown field', (bp) => (bp.trigger = { event_type: 'a.b', every: '5m' }), 'trigger.every', 'unknown field "every"'],
  ['inputs a list', (bp) => (bp.inputs = { host: {} }), 'inputs', 'must be an array'],
  ['input name an identifier', (bp) => (bp.inputs = [{ name: 'my-host' }]), 'inputs[0].name', 'identifier'],
  ['input name required', (bp) => (bp.inputs = [{ required: true }]), 'inputs[0].name', 'required'],
  ['input names unique', (bp) => (bp.inputs = [{ name: 'host' }, { name: 'host' }]), 'inputs[1].name', 'declared twice'],
  ['input required a boolean', (bp) => (bp.inputs = [{ name: 'host', required: 'yes' }]), 'inputs[0].required', 'must be a boolean'],
  ['input unknown field', (bp) => (bp.inputs = [{ name: 'host', type: 'string' }]), 'inputs[0].type', 'unknown field "type"'],
  ['plan required', (bp) => delete (bp as Record<string, unknown>).plan, 'plan', 'required'],
  ['plan not empty', (bp) => (bp.plan = []), 'plan', 'at least 1 entry'],
  ['plan at most 200 steps', (bp) => (bp.plan = Array.from({ length: 201 }, (_, i) => ({ kind: 'gate', id: `g${i}`, mode: 'manual' }))), 'plan', 'more than 200'],
  ['step kind known', (bp) => (step(bp, 1).kind = 'sleep'), 'plan[1].kind', 'must be one of agent_task, action_task, gate, transform'],
  ['step kind required', (bp) => delete step(bp, 1).kind, 'plan[1].kind', /must be one of|required/],
  ['step id required', (bp) => delete step(bp, 1).id, 'plan[1].id', 'required'],
  ['step id an identifier', (bp) => (step(bp, 1).id = 'ap-prove'), 'plan[1].id', 'identifier'],
  ['step ids unique', (bp) => (step(bp, 1).id = 'analyze'), 'plan[1].id', 'step id "analyze" is used twice'],
  ['when a string', (bp) => (step(bp, 1).when = true), 'plan[1].when', 'must be a string'],
  ['timeout a duration', (bp) => (step(bp, 1).timeout = '5 minutes'), 'plan[1].timeout', 'duration like 30s'],
  ['timeout not negative', (bp) => (step(bp, 1).timeout = -5), 'plan[1].timeout', 'duration'],
  ['backoff a duration', (bp) => (step(bp, 1).backoff = '1d'), 'plan[1].backoff', 'duration'],
  ['retries at most 10', (bp) => (step(bp, 1).retries = 11), 'plan[1].retries', 'at most 10'],
  ['retries at least 0', (bp) => (step(bp, 1).retries = -1), 'plan[1].retries', 'at least 0'],
  ['retries an integer', (bp) => (step(bp, 1).retries = 1.5), 'plan[1].retries', 'integer'],
  ['on_failure fail|continue', (bp) => (step(bp, 1).on_failure = 'retry'), 'plan[1].on_failure', 'must be one of fail, continue'],
  ['gate mode manual', (bp) => (step(bp, 1).mode = 'auto'), 'plan[1].mode', 'must be "manual"'],
  ['gate mode required', (bp) => delete step(bp, 1).mode, 'plan[1].mode', 'required'],
  ['agent provider required', (bp) => delete step(bp, 0).provider, 'plan[0].provider', 'required'],
  ['agent provider known', (bp) => (step(bp, 0).provider = 'llama'), 'plan[0].provider', 'must be one of openai, anthropic'],
  ['agent model required', (bp) => delete step(bp, 0).model, 'plan[0].model', 'required'],
  ['agent prompt_template required', (bp) => delete step(bp, 0).prompt_template, 'plan[0].prompt_template', 'required'],
  ['agent temperature ≤ 2', (bp) => (step(bp, 0).temperature = 2.5), 'plan[0].temperature', 'at most 2'],
  ['agent temperature ≥ 0', (bp) => (step(bp, 0).temperature = -0.1), 'plan[0].temperature', 'at least 0'],
  ['agent max_tokens positive', (bp) => (step(bp, 0).max_tokens = 0), 'plan[0].max_tokens', 'at least'],
  ['agent output text|json', (bp) => (step(bp, 0).output = 'xml'), 'plan[0].output', 'must be one of text, json'],
  ['agent schema only with json', (bp) => (step(bp, 0).schema = { type: 'object' }), 'plan[0].schema', 'only with output: json'],
  ['seed-style agent: refused with a hint', (bp) => (step(bp, 0).agent = 'openai:gpt-5'), 'plan[0].agent', /unknown field "agent" — .*`provider`/],
  ['seed-style prompt: refused with a hint', (bp) => (step(bp, 0).prompt = 'hi'), 'plan[0].prompt', /unknown field "prompt" — .*`prompt_template`/],
  ['action required', (bp) => delete step(bp, 3).action, 'plan[3].action', 'required'],
  ['action known', (bp) => (step(bp, 3).action = 'shell.run'), 'plan[3].action', 'must be one of http.call, hxo.submit'],
  ['action with required', (bp) => delete step(bp, 3).with, 'plan[3].with', 'required'],
  ['action with an object', (bp) => (step(bp, 3).with = 'host=a'), 'plan[3].with', 'must be an object'],
  ['a gate output known', (bp) => (step(bp, 3).with = { host: '{{steps.approve.outputs.who}}' }), 'plan[3].with.host', 'approve (gate) has outputs approved, by, reason, decided_at'],
  ['transform outputs required', (bp) => delete step(bp, 2).outputs, 'plan[2].outputs', 'required'],
  ['transform output names identifiers', (bp) => (step(bp, 2).outputs = { 'a-b': 1 }), 'plan[2].outputs.a-b', 'identifier'],
  ['step unknown field', (bp) => (step(bp, 1).approvers = ['ops']), 'plan[1].approvers', 'unknown field "approvers"'],
  ['field of another kind refused', (bp) => (step(bp, 1).model = 'gpt-5'), 'plan[1].model', 'unknown field "model"'],
  ['outputs a list', (bp) => (bp.outputs = { summary: 'x' }), 'outputs', 'must be an array'],
  ['output name an identifier', (bp) => (bp.outputs = [{ name: '1st' }]), 'outputs[0].name', 'identifier'],
  ['output names unique', (bp) => (bp.outputs = [{ name: 'a' }, { name: 'a' }]), 'outputs[1].name', 'declared twice'],
  ['output unknown field', (bp) => (bp.outputs = [{ name: 'a', from: 'x' }]), 'outputs[0].from', 'unknown field "from"'],
  ['blueprint unknown field', (bp) => (bp.version = 2), 'version', 'unknown field "version"'],
  ['blueprint an object', (bp) => Object.keys(bp).forEach((k) => delete bp[k]), 'id', 'required'],
];

describe('each rule is refused with the path named', () => {
  it('the base blueprint is valid', () => {
    expect(validateBlueprint(validBlueprint())).toMatchObject({ ok: true, blueprint: { id: 'bp.test.flow' } });
  });
  it.each(ROWS)('%s', (_rule, change, path, message) => {
    const issues = issuesWith(change);
    expect(issues).toContainEqual({ path, message: expect.stringMatching(typeof message === 'string' ? escape(message) : message) });
  });
});

function escape(s: string): RegExp {
  return new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}

describe('what is valid stays valid', () => {
  it.each([
    ['a 6-field cron with a timezone', (bp: Bp) => (bp.trigger = { cron: '0 */5 * * * *', timezone: 'Europe/Berlin' })],
    ['a pattern with * and >', (bp: Bp) => (bp.trigger = { event_type: 'checkmk.*.alert.>' })],
    ['durations as text and as ms', (bp: Bp) => Object.assign(step(bp, 1), { timeout: '1h', backoff: 250, retries: 10, on_failure: 'continue' })],
    ['agent json output with a schema', (bp: Bp) => Object.assign(step(bp, 0), { output: 'json', schema: { type: 'object' }, temperature: 0, max_tokens: 100, system: 'be brief' })],
    ['every known action', (bp: Bp) => Object.assign(bp, { outputs: [], plan: ACTION_NAMES.map((action, i) => ({ kind: 'action_task', id: `a${i}`, action, with: {} })) })],
    ['exactly 200 steps', (bp: Bp) => Object.assign(bp, { outputs: [], plan: Array.from({ length: 200 }, (_, i) => ({ kind: 'gate', id: `g${i}`, mode: 'manual' })) })],
    ['an id of 128 characters', (bp: Bp) => (bp.id = 'a'.repeat(128))],
  ])('%s', (_what, change) => {
    expect(issuesWith(change)).toEqual([]);
  });

  it('applies the defaults: required true, output text, empty inputs and outputs', () => {
    const r = validateBlueprint({ id: 'a', name: 'A', trigger: { cron: '* * * * *' }, plan: [{ kind: 'agent_task', id: 's', provider: 'anthropic', model: 'm', prompt_template: 'p' }] });
    expect(r).toMatchObject({ ok: true, blueprint: { inputs: [], outputs: [], plan: [{ output: 'text' }] } });
    const withInput = validateBlueprint({ ...validBlueprint(), inputs: [{ name: 'host' }, { name: 'service' }] });
    expect(withInput).toMatchObject({ ok: true, blueprint: { inputs: [{ name: 'host', required: true }, { name: 'service', required: true }] } });
  });
});

describe('all issues are collected', () => {
  it('every shape issue at once, each with its own path', () => {
    const issues = issuesWith((bp) => {
      bp.id = 'BAD';
      delete bp.name;
      step(bp, 0).temperature = 9;
      step(bp, 1).mode = 'auto';
      step(bp, 3).action = 'nope';
    });
    expect(issues.map((i) => i.path)).toEqual(['id', 'name', 'plan[0].temperature', 'plan[1].mode', 'plan[3].action']);
  });

  it('every reference issue at once', () => {
    const issues = issuesWith((bp) => {
      step(bp, 1).id = 'analyze';
      step(bp, 0).prompt_template = '{{inputs.hots}} {{steps.run_fix.outputs.stdout}}';
      step(bp, 3).with = { host: '{{inputs.nope}}' };
    });
    expect(issues.map((i) => i.path)).toEqual(['plan[1].id', 'plan[0].prompt_template', 'plan[0].prompt_template', 'plan[3].with.host']);
  });

  it('a value nested too deep is refused before anything walks it', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100; i++) deep = { d: deep };
    const issues = issuesWith((bp) => (step(bp, 3).with = deep));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toMatch(/^plan\[3\]\.with\.d\.d/);
    expect(issues[0]?.message).toContain('nests more than 64 levels');
  });
});

describe('the actions catalogue', () => {
  it('is the eight actions of the format, in one list', () => {
    expect(ACTION_NAMES).toEqual(['http.call', 'hxo.submit', 'events.emit', 'drafts.save', 'blueprints.validate', 'blueprints.promote', 'ssh.run', 'container.exec']);
  });
});
