/**
 * The checks that need the whole blueprint, after its shape passed: unique
 * input, step and output names, every template's and `when`'s expression
 * parsing, and every path it reads resolving — to an input that is declared,
 * a step that runs earlier, an output that step gives.
 */
import { issuePath } from '../../core/errors.ts';
import { ACTIONS, AGENT_OUTPUTS, GATE_OUTPUTS } from './actions.ts';
import type { Blueprint, BlueprintStep } from './shape.ts';
import { scanCondition } from './conditions.ts';
import { scanTemplates, type TemplateScan, type TemplateUse } from './templates.ts';

export interface BlueprintIssue {
  path: string;
  message: string;
}

/** The fields of a step whose strings may hold templates (the rest are literal). */
export const TEMPLATE_FIELDS = ['when', 'prompt_template', 'system', 'with', 'outputs'] as const;

/** The output names a step gives. */
export function stepOutputs(step: BlueprintStep): readonly string[] {
  switch (step.kind) {
    case 'agent_task':
      return AGENT_OUTPUTS;
    case 'transform':
      return Object.keys(step.outputs);
    case 'action_task':
      return ACTIONS[step.action];
    case 'gate':
      return GATE_OUTPUTS;
  }
}

export function referenceIssues(bp: Blueprint): BlueprintIssue[] {
  const issues: BlueprintIssue[] = [];
  const add = (path: (string | number)[], message: string) => issues.push({ path: issuePath('', path), message });
  duplicates(bp.inputs.map((i) => i.name)).forEach((i) => add(['inputs', i, 'name'], `"${bp.inputs[i]?.name}" is declared twice`));
  duplicates(bp.plan.map((s) => s.id)).forEach((i) => add(['plan', i, 'id'], `step id "${bp.plan[i]?.id}" is used twice`));
  duplicates(bp.outputs.map((o) => o.name)).forEach((i) => add(['outputs', i, 'name'], `"${bp.outputs[i]?.name}" is declared twice`));

  bp.plan.forEach((step, index) => {
    if (step.kind === 'agent_task' && step.schema !== undefined && step.output !== 'json') add(['plan', index, 'schema'], 'applies only with output: json');
    for (const field of TEMPLATE_FIELDS) {
      const value = (step as Record<string, unknown>)[field];
      const at = ['plan', index, field];
      // A when is one expression, bare or in one {{ }}; elsewhere only the templates in strings are read.
      check(field === 'when' && typeof value === 'string' ? scanCondition(value, at) : scanTemplates(value, at), index);
    }
  });
  bp.outputs.forEach((o, index) => check(scanTemplates(o.value, ['outputs', index, 'value']), bp.plan.length));
  return issues;

  function check(scan: TemplateScan, index: number): void {
    for (const bad of scan.invalid) {
      const { reason, column } = bad.error;
      add(bad.at, `${bad.text} is not a valid expression: ${reason}${column !== undefined ? ` at column ${column}` : ''}`);
    }
    for (const use of scan.uses) {
      const why = problemOf(use, bp, index);
      if (why) add(use.at, why);
    }
  }
}

/** Indexes of the entries whose value came earlier in the list. */
function duplicates(values: string[]): number[] {
  return values.flatMap((v, i) => (values.indexOf(v) < i ? [i] : []));
}

const list = (names: readonly string[]) => names.join(', ');

/** Why a template used in plan[index] (index = plan length: after the plan) does not resolve. */
function problemOf(use: TemplateUse, bp: Blueprint, index: number): string | undefined {
  const [root, name, third, output] = use.path;
  const subject = named(use);
  const bad = `${subject} does not resolve`;
  if (root === 'event') {
    return (name === 'name' && use.path.length === 2) || name === 'data' ? undefined : `${bad} — the event gives event.name and event.data…`;
  }
  if (root === 'inputs') {
    if (name === undefined) return `${bad} — name an input: {{inputs.<name>}}`;
    if (bp.inputs.some((i) => i.name === name)) return undefined;
    return `${bad} — ${bp.inputs.length > 0 ? `inputs are ${list(bp.inputs.map((i) => i.name))}` : 'the blueprint declares no inputs'}`;
  }
  if (root === 'steps') {
    if (name === undefined || third !== 'outputs' || output === undefined) return `${bad} — a step's output is {{steps.<id>.outputs.<name>}}`;
    const at = bp.plan.findIndex((s) => s.id === name);
    const step = bp.plan[at];
    if (!step) return `${bad} — no step "${name}" (steps are ${list(bp.plan.map((s) => s.id))})`;
    if (at === index) return `${subject} names its own step: a step sees only the outputs of steps before it`;
    if (at > index) return `${subject} names a step that runs later (${name} is plan[${at}])`;
    const outputs = stepOutputs(step);
    if (!outputs.includes(output)) return `${bad} — ${name} (${step.kind}) has outputs ${list(outputs) || '(none)'}`;
    return undefined;
  }
  return `${bad} — a template starts with inputs., steps. or event.`;
}

/** How a message names the path: the template when it is only that path, else the template and the path. */
function named(use: TemplateUse): string {
  const inner = use.text.replace(/^\{\{\s*|\s*\}\}$/g, '');
  const path = use.path.join('.');
  return inner === path ? use.text : `${use.text}: ${path}`;
}
