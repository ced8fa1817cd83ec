/**
 * Templates: `{{ expression }}` inside string values, the expression in the
 * language of expressions.ts — most often a path: `{{inputs.host}}`,
 * `{{steps.call.outputs.json.items[0]}}`, `{{event.data.severity}}`, but
 * also `{{ inputs.port + 1 }}` or `{{ upper(inputs.host) }}`.
 *
 * `scanTemplates` finds them, with every path each reads (the validator
 * checks each resolves) and those that do not parse; `resolveTemplates`
 * fills them in when a step starts. A string that is one template and
 * nothing else takes the value's own type (an object stays an object); a
 * template inside longer text is stringified into it.
 */
import { evaluate, expressionPaths, ExpressionError, parseExpression, type Expr } from './expressions.ts';
import { stringify } from './expression-values.ts';
import type { TemplateContext } from './template-context.ts';

export { TemplateError, type TemplateContext } from './template-context.ts';

const TEMPLATE_RE = /\{\{\s*([^{}]*?)\s*\}\}/g;
const WHOLE_RE = /^\{\{\s*([^{}]*?)\s*\}\}$/;

/** One path a template reads: a template reading three paths is three uses. */
export interface TemplateUse {
  /** The template as written, braces included (a bare `when`: its text). */
  text: string;
  /** The path split in segments: `['inputs', 'host']`; `items[0]` is `'items', '0'`. */
  path: string[];
  /** Where in the value the string holding it is. */
  at: (string | number)[];
}

/** A template whose expression does not parse. */
export interface InvalidTemplate {
  text: string;
  at: (string | number)[];
  error: ExpressionError;
}

export interface TemplateScan {
  uses: TemplateUse[];
  invalid: InvalidTemplate[];
}

/** Every template in the strings of `value`, in document order: the paths they read, and those that do not parse. */
export function scanTemplates(value: unknown, at: (string | number)[] = []): TemplateScan {
  const scan: TemplateScan = { uses: [], invalid: [] };
  const walk = (v: unknown, where: (string | number)[]): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(TEMPLATE_RE)) addExpression(scan, m[0], m[1] ?? '', where);
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...where, i]));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...where, k]);
  };
  walk(value, at);
  return scan;
}

/** Adds the paths `source` reads (as uses of `text`) to `scan`, or `text` as invalid when it does not parse. */
export function addExpression(scan: TemplateScan, text: string, source: string, at: (string | number)[]): void {
  try {
    for (const path of expressionPaths(parseExpression(source))) scan.uses.push({ text, path, at });
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    scan.invalid.push({ text, at, error: err });
  }
}

/** The paths every template in `value` reads (scanTemplates' uses). */
export function templatesIn(value: unknown, at: (string | number)[] = []): TemplateUse[] {
  return scanTemplates(value, at).uses;
}

/** Which templates to fill in now, by the paths they read; a string holding any other is left whole for later. */
export type TemplateFilter = (path: readonly string[]) => boolean;

/**
 * `value` with its templates filled in from `context`. Throws a TemplateError
 * naming a template whose path does not resolve, an ExpressionError naming one
 * that does not parse or whose operator or function is given a value it does
 * not take. With `only`, a string is filled in only when every path of every
 * template in it passes (a template reading no path always does).
 */
export function resolveTemplates(value: unknown, context: TemplateContext, only?: TemplateFilter): unknown {
  if (typeof value === 'string') return resolveString(value, context, only);
  if (Array.isArray(value)) return value.map((v) => resolveTemplates(v, context, only));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveTemplates(v, context, only)]));
  }
  return value;
}

function resolveString(s: string, context: TemplateContext, only: TemplateFilter | undefined): unknown {
  const found = [...s.matchAll(TEMPLATE_RE)].map((m) => ({ text: m[0], expr: parseTemplate(m[0], m[1] ?? '') }));
  if (found.length === 0) return s;
  // All or nothing: a value filled in now is never read again as a template later.
  if (only && !found.every((t) => expressionPaths(t.expr).every(only))) return s;
  if (WHOLE_RE.test(s)) return fill(found[0]?.expr as Expr, s, context);
  let i = 0;
  return s.replace(TEMPLATE_RE, (text) => stringify(fill(found[i++]?.expr as Expr, text, context)));
}

function parseTemplate(text: string, source: string): Expr {
  try {
    return parseExpression(source);
  } catch (err) {
    if (err instanceof ExpressionError) throw new ExpressionError(`${text} is not a valid expression: ${err.reason}`, err.column);
    throw err;
  }
}

function fill(expr: Expr, text: string, context: TemplateContext): unknown {
  try {
    return evaluate(expr, context, text);
  } catch (err) {
    if (err instanceof ExpressionError) throw new ExpressionError(`${text}: ${err.reason}`, err.column);
    throw err;
  }
}
