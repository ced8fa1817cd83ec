/**
 * A run's own copy of its blueprint: `compileRun` checks the run's inputs
 * against those declared (defaults applied), fills in every template that
 * needs only the inputs (and the triggering event, when there is one), and
 * keeps the blueprint's digest, so a run goes on as it started even if the
 * blueprint is changed meanwhile. Templates naming step outputs are left for
 * the step's start (resolveStepFields with the outputs by then). A `when`
 * reading only the inputs (and the event) is decided now: it becomes `true`
 * or `false`; any other is left for the step's start (evaluateCondition).
 */
import { canonicalEncode } from '../../core/canonical.ts';
import { sha256Hex } from '../../store/cas.ts';
import { evaluateCondition, parseCondition } from './conditions.ts';
import { expressionPaths, ExpressionError } from './expressions.ts';
import { TEMPLATE_FIELDS, type BlueprintIssue } from './references.ts';
import type { Blueprint, BlueprintStep } from './shape.ts';
import { resolveTemplates, TemplateError, type TemplateContext, type TemplateFilter } from './templates.ts';

export interface CompiledRun {
  blueprint_id: string;
  /** sha256 of the blueprint's canonical encoding. */
  digest: string;
  inputs: Record<string, unknown>;
  /** The steps in plan order, their input and event templates filled in. */
  steps: BlueprintStep[];
  /** The blueprint's outputs, likewise. */
  outputs: Blueprint['outputs'];
}

export type CompileResult = { ok: true; run: CompiledRun } | { ok: false; issues: BlueprintIssue[] };

export function blueprintDigest(bp: Blueprint): string {
  return sha256Hex(canonicalEncode(bp));
}

/** `digest`: the blueprint's, when the caller has it already (a promoted version keeps it), so each run does not hash the blueprint again. */
export function compileRun(bp: Blueprint, given: Record<string, unknown>, event?: TemplateContext['event'], digest?: string): CompileResult {
  const issues: BlueprintIssue[] = [];
  const inputs: Record<string, unknown> = {};
  for (const input of bp.inputs) {
    if (Object.hasOwn(given, input.name) && given[input.name] !== undefined) inputs[input.name] = given[input.name];
    else if (input.default !== undefined) inputs[input.name] = input.default;
    else if (input.required) issues.push({ path: `inputs.${input.name}`, message: 'required, and not given' });
  }
  const declared = bp.inputs.map((i) => i.name);
  for (const name of Object.keys(given)) {
    if (!declared.includes(name)) {
      issues.push({ path: `inputs.${name}`, message: `not an input of ${bp.id} (${declared.length > 0 ? `inputs are ${declared.join(', ')}` : 'it declares none'})` });
    }
  }
  if (issues.length > 0) return { ok: false, issues };

  const context: TemplateContext = { inputs, ...(event ? { event } : {}) };
  const now: TemplateFilter = (path) => path[0] === 'inputs' || (event !== undefined && path[0] === 'event');
  const fill = <T>(value: T, path: string, how: (v: T) => T): T => {
    try {
      return how(value);
    } catch (err) {
      // An optional input with no default, not given: a template naming it has nothing to fill in.
      if (!(err instanceof TemplateError) && !(err instanceof ExpressionError)) throw err;
      issues.push({ path, message: err.message });
      return value;
    }
  };
  const templates = <T>(value: T): T => resolveTemplates(value, context, now) as T;
  const condition = (when: string): string => (expressionPaths(parseCondition(when)).every(now) ? String(evaluateCondition(when, context)) : when);
  const steps = bp.plan.map((step, i) => {
    const filled: Record<string, unknown> = { ...step };
    for (const field of TEMPLATE_FIELDS) {
      const value = filled[field];
      if (value === undefined) continue;
      const path = `plan[${i}].${field}`;
      filled[field] = field === 'when' && typeof value === 'string' ? fill(value, path, condition) : fill(value, path, templates);
    }
    return filled as BlueprintStep;
  });
  const outputs = bp.outputs.map((o, i) => fill(o, `outputs[${i}]`, templates));
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, run: { blueprint_id: bp.id, digest: digest ?? blueprintDigest(bp), inputs, steps, outputs } };
}

/**
 * A step's fields with their templates filled in from `context` (the run
 * engine's call when the step starts, with the outputs of the steps before).
 * Its `when` is left as it is: decide it first, with evaluateCondition.
 * Throws a TemplateError or ExpressionError as resolveTemplates does.
 */
export function resolveStepFields(step: BlueprintStep, context: TemplateContext): BlueprintStep {
  const filled: Record<string, unknown> = { ...step };
  for (const field of TEMPLATE_FIELDS) {
    if (field !== 'when' && filled[field] !== undefined) filled[field] = resolveTemplates(filled[field], context);
  }
  return filled as BlueprintStep;
}
