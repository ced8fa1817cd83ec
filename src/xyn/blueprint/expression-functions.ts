/**
 * The functions an expression may call — a fixed allow-list, each pure and
 * deterministic (no clock, no randomness, no I/O). A function given a value
 * of the wrong type is an ExpressionError naming the function and the
 * argument: `upper: argument 1 must be a string, got number`.
 */
import { deepEqual, ExpressionError, isObject, limited, MAX_SPLIT_ENTRIES, stringify, truthy, typeName } from './expression-values.ts';

interface ExpressionFunction {
  min: number;
  max: number;
  call: (args: unknown[], name: string) => unknown;
}

function wrongType(name: string, index: number, wanted: string, got: unknown): ExpressionError {
  return new ExpressionError(`${name}: argument ${index + 1} must be ${wanted}, got ${typeName(got)}`);
}

function arg<T>(test: (v: unknown) => v is T, wanted: string) {
  return (args: unknown[], name: string, index: number): T => {
    const v = args[index];
    if (!test(v)) throw wrongType(name, index, wanted, v);
    return v;
  };
}
const str = arg((v): v is string => typeof v === 'string', 'a string');
const num = arg((v): v is number => typeof v === 'number', 'a number');
const arr = arg((v): v is unknown[] => Array.isArray(v), 'an array');
const obj = arg(isObject, 'an object');

function numbers(values: unknown[], name: string): number[] {
  // min(a, b, …) or min(list): one array argument is its entries.
  const list = values.length === 1 && Array.isArray(values[0]) ? values[0] : values;
  if (list.length === 0) throw new ExpressionError(`${name}: needs at least one number`);
  return list.map((v, i) => {
    if (typeof v !== 'number') throw new ExpressionError(`${name}: ${list === values ? `argument ${i + 1}` : `entry ${i}`} must be a number, got ${typeName(v)}`);
    return v;
  });
}

const one = (call: (v: unknown, name: string) => unknown): ExpressionFunction => ({ min: 1, max: 1, call: (args, name) => call(args[0], name) });
const stringFn = (f: (s: string) => string) => one((v, name) => limited(f(str([v], name, 0)), name));
const numberFn = (f: (n: number) => number) => one((v, name) => f(num([v], name, 0)));

export const FUNCTIONS = new Map<string, ExpressionFunction>([
  ['length', one((v, name) => {
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (isObject(v)) return Object.keys(v).length;
    throw wrongType(name, 0, 'a string, an array or an object', v);
  })],
  ['upper', stringFn((s) => s.toUpperCase())],
  ['lower', stringFn((s) => s.toLowerCase())],
  ['trim', stringFn((s) => s.trim())],
  ['contains', { min: 2, max: 2, call: (args, name) => {
    const [haystack, needle] = args;
    if (Array.isArray(haystack)) return haystack.some((v) => deepEqual(v, needle));
    if (typeof haystack !== 'string') throw wrongType(name, 0, 'a string or an array', haystack);
    return haystack.includes(str(args, name, 1));
  } }],
  ['starts_with', { min: 2, max: 2, call: (args, name) => str(args, name, 0).startsWith(str(args, name, 1)) }],
  ['ends_with', { min: 2, max: 2, call: (args, name) => str(args, name, 0).endsWith(str(args, name, 1)) }],
  ['join', { min: 2, max: 2, call: (args, name) => {
    const list = arr(args, name, 0);
    const sep = str(args, name, 1);
    return limited(list.map(stringify).join(sep), name);
  } }],
  ['split', { min: 2, max: 2, call: (args, name) => {
    const parts = str(args, name, 0).split(str(args, name, 1), MAX_SPLIT_ENTRIES + 1);
    if (parts.length > MAX_SPLIT_ENTRIES) throw new ExpressionError(`${name}: makes more than ${MAX_SPLIT_ENTRIES} entries`);
    return parts;
  } }],
  ['to_json', one((v, name) => {
    try {
      return limited(JSON.stringify(v) ?? 'null', name);
    } catch (err) {
      if (err instanceof ExpressionError) throw err;
      throw new ExpressionError(`${name}: cannot write the value as JSON: ${(err as Error).message}`);
    }
  })],
  ['from_json', one((v, name) => {
    const text = str([v], name, 0);
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new ExpressionError(`${name}: argument 1 is not valid JSON: ${(err as Error).message}`);
    }
  })],
  ['number', one((v, name) => {
    if (typeof v === 'number') return v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
    throw new ExpressionError(`${name}: argument 1 must be a number, a numeric string or a boolean, got ${typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : typeName(v)}`);
  })],
  ['string', one((v, name) => limited(stringify(v), name))],
  ['bool', one((v) => truthy(v))],
  ['round', { min: 1, max: 2, call: (args, name) => {
    const x = num(args, name, 0);
    const digits = args.length > 1 ? num(args, name, 1) : 0;
    if (!Number.isInteger(digits) || digits < 0 || digits > 15) throw new ExpressionError(`${name}: argument 2 must be a whole number from 0 to 15, got ${digits}`);
    const f = 10 ** digits;
    // Halves away from zero: round(-2.5) is -3, as round(2.5) is 3.
    return (Math.sign(x) * Math.round(Math.abs(x) * f)) / f;
  } }],
  ['floor', numberFn(Math.floor)],
  ['ceil', numberFn(Math.ceil)],
  ['abs', numberFn(Math.abs)],
  ['min', { min: 1, max: Infinity, call: (args, name) => numbers(args, name).reduce((a, b) => Math.min(a, b)) }],
  ['max', { min: 1, max: Infinity, call: (args, name) => numbers(args, name).reduce((a, b) => Math.max(a, b)) }],
  ['sum', one((v, name) => arr([v], name, 0).reduce<number>((total, x, i) => {
    if (typeof x !== 'number') throw new ExpressionError(`${name}: entry ${i} must be a number, got ${typeName(x)}`);
    return total + x;
  }, 0))],
  ['keys', one((v, name) => Object.keys(obj([v], name, 0)))],
  ['values', one((v, name) => Object.values(obj([v], name, 0)))],
  ['default', { min: 2, max: 2, call: ([x, fallback]) => (x === null || x === undefined || x === '' ? fallback : x) }],
]);

/** Why `count` arguments do not suit function `name`, or undefined when they do. */
export function functionArity(name: string, count: number): string | undefined {
  const f = FUNCTIONS.get(name);
  if (!f || (count >= f.min && count <= f.max)) return undefined;
  const takes = f.min === f.max ? `${f.min}` : f.max === Infinity ? `at least ${f.min}` : `${f.min} or ${f.max}`;
  return `${name} takes ${takes} argument${takes === '1' ? '' : 's'}, not ${count}`;
}
