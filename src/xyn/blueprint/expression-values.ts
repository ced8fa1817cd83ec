/**
 * The values expressions compute with — JSON's: null, booleans, numbers,
 * strings, arrays, objects — and the rules every operator and function shares:
 * truthiness, deep equality (no coercion), how a value is written into text,
 * and the size limits on what an expression may make.
 */
import { XynError, registerErrorClass } from '../../core/errors.ts';

/** The longest string an expression may make (in UTF-16 code units). */
export const MAX_STRING_LENGTH = 1024 * 1024;
/** The most entries `split` may make. */
export const MAX_SPLIT_ENTRIES = 100_000;

/** An expression that does not parse, breaks a limit, or gives an operator or function a value it does not take. */
export class ExpressionError extends XynError {
  constructor(
    readonly reason: string,
    readonly column?: number,
    readonly source?: string,
  ) {
    const quoted = source === undefined ? '' : ` in "${source.length > 80 ? `${source.slice(0, 79)}…` : source}"`;
    super(`${reason}${column !== undefined ? ` at column ${column}` : ''}${quoted}`, 'EXPRESSION', { reason, column, source });
  }
}
registerErrorClass(ExpressionError);

/** false, null, undefined, 0, NaN, '' and [] are false; everything else (`{}` too) is true. */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return Boolean(v);
}

/** Equal values: the same primitive, or arrays/objects with equal entries (no type coercion: 1 is not '1'). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** A value as text: a string as it is, anything else as JSON. */
export function stringify(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined');
}

/** The type a message names: null, array, object, string, number, boolean. */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `s`, or an ExpressionError when it is longer than MAX_STRING_LENGTH. */
export function limited(s: string, what: string): string {
  if (s.length > MAX_STRING_LENGTH) throw new ExpressionError(`${what} makes a string longer than ${MAX_STRING_LENGTH} characters`);
  return s;
}
