/**
 * Templates: at validation each must resolve — a declared input, an earlier
 * step, an output that step has — and at run time resolveTemplates fills
 * them in, keeping a whole-string template's type.
 */
import { describe, expect, it } from 'vitest';
import { resolveTemplates, templatesIn, TemplateError } from '../../src/xyn/blueprint/index.ts';
import { issuesWith, step } from './helpers.ts';

describe('templates at validation', () => {
  it.each([
    ['an undeclared input, naming those declared', (bp: Bp) => (step(bp, 3).with = { host: '{{inputs.hots}}' }), 'plan[3].with.host', '{{inputs.hots}} does not resolve — inputs are host, service'],
    ['an input when none are declared', (bp: Bp) => Object.assign(bp, { inputs: [], plan: bp.plan.slice(0, 2), outputs: [] }), 'plan[0].prompt_template', '{{inputs.host}} does not resolve — the blueprint declares no inputs'],
    ['a step that runs later', (bp: Bp) => (step(bp, 0).prompt_template = 'x {{steps.run_fix.outputs.stdout}}'), 'plan[0].prompt_template', '{{steps.run_fix.outputs.stdout}} names a step that runs later (run_fix is plan[3])'],
    ['its own step', (bp: Bp) => (step(bp, 2).when = '{{steps.shape.outputs.cmd}}'), 'plan[2].when', '{{steps.shape.outputs.cmd}} names its own step: a step sees only the outputs of steps before it'],
    ['an unknown step', (bp: Bp) => (step(bp, 3).with = { cmd: '{{steps.anlyze.outputs.text}}' }), 'plan[3].with.cmd', '{{steps.anlyze.outputs.text}} does not resolve — no step "anlyze" (steps are analyze, approve, shape, run_fix)'],
    ['an agent output it lacks', (bp: Bp) => (bp.outputs = [{ name: 's', value: '{{steps.analyze.outputs.answer}}' }]), 'outputs[0].value', '{{steps.analyze.outputs.answer}} does not resolve — analyze (agent_task) has outputs text, json, provider, model, usage'],
    ['a transform output it lacks', (bp: Bp) => (step(bp, 3).with = { cmd: '{{steps.shape.outputs.command}}' }), 'plan[3].with.cmd', '{{steps.shape.outputs.command}} does not resolve — shape (transform) has outputs cmd, plan'],
    ['an action output it lacks', (bp: Bp) => (bp.outputs = [{ name: 's', value: '{{steps.run_fix.outputs.status}}' }]), 'outputs[0].value', '{{steps.run_fix.outputs.status}} does not resolve — run_fix (action_task) has outputs exit_code, signal, stdout, stderr, truncated'],
    ['a step template without outputs.', (bp: Bp) => (step(bp, 3).with = { cmd: '{{steps.shape.cmd}}' }), 'plan[3].with.cmd', "{{steps.shape.cmd}} does not resolve — a step's output is {{steps.<id>.outputs.<name>}}"],
    ['an unknown root', (bp: Bp) => (step(bp, 0).system = '{{env.HOME}}'), 'plan[0].system', '{{env.HOME}} does not resolve — a template starts with inputs., steps. or event.'],
    ['an event field that is not there', (bp: Bp) => (step(bp, 0).prompt_template = '{{event.topic}}'), 'plan[0].prompt_template', '{{event.topic}} does not resolve — the event gives event.name and event.data…'],
    ['deep in a with value, path and all', (bp: Bp) => (step(bp, 3).with = { headers: [{ auth: 'Bearer {{inputs.token}}' }] }), 'plan[3].with.headers[0].auth', '{{inputs.token}} does not resolve — inputs are host, service'],
  ])('refuses %s', (_what, change, path, message) => {
    expect(issuesWith(change)).toEqual([{ path, message }]);
  });

  it.each([
    ['event.name and event.data anywhere', (bp: Bp) => (step(bp, 0).prompt_template = '{{event.name}}: {{event.data}} {{event.data.host.addr}}')],
    ['a step before, deeper into its output', (bp: Bp) => (step(bp, 3).with = { n: '{{steps.analyze.outputs.json.items.0}}' })],
    ['a gate output', (bp: Bp) => (step(bp, 3).with = { who: '{{steps.approve.outputs.by}}' })],
    ['an output the step\'s action gives', (bp: Bp) => Object.assign(step(bp, 3), { action: 'drafts.save' }) && (bp.outputs = [{ name: 'x', value: '{{steps.run_fix.outputs.draft_id}}' }])],
    ['blueprint outputs naming any step (they come after the plan)', (bp: Bp) => (bp.outputs = [{ name: 'x', value: '{{steps.run_fix.outputs.stdout}}' }])],
    ['spaces inside the braces', (bp: Bp) => (step(bp, 0).prompt_template = '{{ inputs.host }}')],
    ['templates in fields that take none are not read', (bp: Bp) => (step(bp, 0).model = '{{inputs.nope}}')],
  ])('accepts %s', (_what, change) => {
    expect(issuesWith(change)).toEqual([]);
  });
});

type Bp = Record<string, unknown> & { plan: Record<string, unknown>[] };

describe('templatesIn', () => {
  it('finds every template with where it is', () => {
    expect(templatesIn({ a: 'x {{inputs.a}} {{ steps.s.outputs.o }}', b: [1, '{{event.name}}'] })).toEqual([
      { text: '{{inputs.a}}', path: ['inputs', 'a'], at: ['a'] },
      { text: '{{ steps.s.outputs.o }}', path: ['steps', 's', 'outputs', 'o'], at: ['a'] },
      { text: '{{event.name}}', path: ['event', 'name'], at: ['b', 1] },
    ]);
    expect(templatesIn('no templates { here }')).toEqual([]);
  });
});

describe('resolveTemplates', () => {
  const context = {
    inputs: { host: 'db1', port: 5432, tags: ['a', 'b'] },
    steps: { fetch: { outputs: { json: { items: [{ id: 7 }] }, status: 200 } } },
    event: { name: 'checkmk.alert', data: { severity: 'crit' } },
  };

  it('a whole-string template keeps the value’s type', () => {
    expect(resolveTemplates('{{inputs.port}}', context)).toBe(5432);
    expect(resolveTemplates('{{ steps.fetch.outputs.json }}', context)).toEqual({ items: [{ id: 7 }] });
    expect(resolveTemplates('{{inputs.tags}}', context)).toEqual(['a', 'b']);
    expect(resolveTemplates('{{steps.fetch.outputs.json.items.0.id}}', context)).toBe(7);
  });

  it('embedded templates are stringified into the text', () => {
    expect(resolveTemplates('ssh {{inputs.host}}:{{inputs.port}} {{event.data}}', context)).toBe('ssh db1:5432 {"severity":"crit"}');
    expect(resolveTemplates('{{event.name}}!', context)).toBe('checkmk.alert!');
  });

  it('walks objects and arrays, leaving other values as they are', () => {
    expect(resolveTemplates({ a: ['{{inputs.host}}', 3, null, true], b: { c: '{{steps.fetch.outputs.status}}' } }, context)).toEqual({ a: ['db1', 3, null, true], b: { c: 200 } });
  });

  it('a missing path throws naming the template and where it stopped', () => {
    expect(() => resolveTemplates({ x: 'go {{steps.fetch.outputs.body}}' }, context)).toThrow(TemplateError);
    expect(() => resolveTemplates('go {{steps.fetch.outputs.body}}', context)).toThrow('{{steps.fetch.outputs.body}} does not resolve: steps.fetch.outputs has no "body"');
    expect(() => resolveTemplates('{{steps.other.outputs.x}}', context)).toThrow('steps has no "other"');
    expect(() => resolveTemplates('{{inputs.tags.5}}', context)).toThrow('inputs.tags has no "5"');
    expect(() => resolveTemplates('{{inputs.host.length}}', context)).toThrow('inputs.host has no "length"');
  });

  it('with a filter, a string holding any template not chosen is left whole', () => {
    const onlyInputs = (path: readonly string[]) => path[0] === 'inputs';
    expect(resolveTemplates('{{inputs.host}} {{steps.fetch.outputs.status}}', context, onlyInputs)).toBe('{{inputs.host}} {{steps.fetch.outputs.status}}');
    expect(resolveTemplates(['{{inputs.host}}', '{{steps.x.outputs.y}}'], context, onlyInputs)).toEqual(['db1', '{{steps.x.outputs.y}}']);
  });
});
