/**
 * What templates and expressions read: the run's inputs, the outputs of the
 * steps before, the triggering event. `lookup` walks a path into it; a path
 * that is not there is a TemplateError naming where it stopped. Only own
 * properties are read (never `__proto__`, `constructor` or anything else a
 * value inherits), and an array only by a whole-number index.
 */
import { XynError, registerErrorClass } from '../../core/errors.ts';

export interface TemplateContext {
  inputs?: Record<string, unknown>;
  steps?: Record<string, { outputs: Record<string, unknown> }>;
  event?: { name: string; data: unknown };
}

/**
 * What a path is read in: a template's context, or another set of roots an
 * expression is evaluated over (an impression rule's `run`, `footprints`,
 * `blueprint`). Its own properties are the roots a path may start with.
 */
export type PathScope = TemplateContext | Readonly<Record<string, unknown>>;

/** A template or expression reads a path that is not there. */
export class TemplateError extends XynError {
  constructor(message: string) {
    super(message, 'TEMPLATE');
  }
}
registerErrorClass(TemplateError);

/** The value at `path`; a TemplateError `<label> does not resolve: <where> has no "<key>"` when it is not there. */
export function lookup(path: readonly string[], label: string, context: PathScope): unknown {
  const found = tryLookup(path, context);
  if (found.ok) return found.value;
  const { stoppedAt: i } = found;
  const where = i === 0 ? 'the context' : path.slice(0, i).join('.');
  throw new TemplateError(`${label} does not resolve: ${where} has no "${path[i] ?? ''}"`);
}

/** The value at `path`, or where it stopped (the index of the segment that is not there). */
export function tryLookup(path: readonly string[], context: PathScope): { ok: true; value: unknown } | { ok: false; stoppedAt: number } {
  let current: unknown = context;
  for (const [i, key] of path.entries()) {
    const next = child(current, key);
    if (next === undefined) return { ok: false, stoppedAt: i };
    current = next;
  }
  return { ok: true, value: current };
}

function child(value: unknown, key: string): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) return /^\d+$/.test(key) ? value[Number(key)] : undefined;
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}
