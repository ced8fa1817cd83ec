/**
 * The template language: `{{inputs.<name>}}`, `{{steps.<id>.outputs.<name>}}`
 * and `{{event.name}}` / `{{event.data...}}` inside string values. Deeper
 * paths go into the value (`{{steps.call.outputs.json.items.0}}`).
 *
 * `templatesIn` finds them (the validator checks each resolves);
 * `resolveTemplates` fills them in when a step starts. A string that is one
 * template and nothing else takes the value's own type (an object stays an
 * object); a template inside longer text is stringified into it.
 */
import { XynError } from '../../core/errors.ts';

const TEMPLATE_RE = /\{\{\s*([^{}]*?)\s*\}\}/g;
const WHOLE_RE = /^\{\{\s*([^{}]*?)\s*\}\}$/;

export interface TemplateUse {
  /** The template as written, braces included. */
  text: string;
  /** Its expression split at the dots: `['inputs', 'host']`. */
  path: string[];
  /** Where in the value the string holding it is. */
  at: (string | number)[];
}

export class TemplateError extends XynError {
  constructor(message: string) {
    super(message, 'TEMPLATE');
  }
}

/** Every template in the strings of `value`, in document order. */
export function templatesIn(value: unknown, at: (string | number)[] = []): TemplateUse[] {
  if (typeof value === 'string') {
    return [...value.matchAll(TEMPLATE_RE)].map((m) => ({ text: m[0], path: (m[1] ?? '').split('.'), at }));
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => templatesIn(v, [...at, i]));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => templatesIn(v, [...at, k]));
  return [];
}

export interface TemplateContext {
  inputs?: Record<string, unknown>;
  steps?: Record<string, { outputs: Record<string, unknown> }>;
  event?: { name: string; data: unknown };
}

/** Which templates to fill in now; a string holding any other is left whole for later. */
export type TemplateFilter = (path: readonly string[]) => boolean;

/** `value` with its templates filled in from `context`; throws a TemplateError naming a template that does not resolve. */
export function resolveTemplates(value: unknown, context: TemplateContext, only?: TemplateFilter): unknown {
  if (typeof value === 'string') return resolveString(value, context, only);
  if (Array.isArray(value)) return value.map((v) => resolveTemplates(v, context, only));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveTemplates(v, context, only)]));
  }
  return value;
}

function resolveString(s: string, context: TemplateContext, only: TemplateFilter | undefined): unknown {
  const uses = templatesIn(s);
  if (uses.length === 0) return s;
  // All or nothing: a value filled in now is never read again as a template later.
  if (only && !uses.every((u) => only(u.path))) return s;
  const whole = WHOLE_RE.exec(s);
  if (whole) return lookup((whole[1] ?? '').split('.'), s, context);
  return s.replace(TEMPLATE_RE, (text, expr: string) => stringify(lookup(expr.split('.'), text, context)));
}

function stringify(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function lookup(path: string[], text: string, context: TemplateContext): unknown {
  let current: unknown = context;
  for (const [i, key] of path.entries()) {
    const next = child(current, key);
    if (next === undefined) {
      const where = i === 0 ? 'the context' : path.slice(0, i).join('.');
      throw new TemplateError(`${text} does not resolve: ${where} has no "${key}"`);
    }
    current = next;
  }
  return current;
}

function child(value: unknown, key: string): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) return /^\d+$/.test(key) ? value[Number(key)] : undefined;
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}
