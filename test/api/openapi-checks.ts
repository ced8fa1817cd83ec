/**
 * Checks of an OpenAPI 3.1 document written for its test, with no validator
 * to lean on (none that reads JSON Schema 2020-12 is installed): where its
 * `$ref`s point, whether each JSON Schema in it is well-formed, and whether a
 * value conforms to one of its schemas (the keywords the node's schemas use;
 * any other keyword is reported, never passed over).
 */

type Node = Record<string, unknown>;

const isObject = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every value of the document with its JSON pointer. */
export function* walk(value: unknown, at = '#'): Generator<[string, unknown]> {
  yield [at, value];
  if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* walk(v, `${at}/${i}`);
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) yield* walk(v, `${at}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`);
}

/** What a local `$ref` (`#/components/schemas/Error`) points at, or undefined. */
export function resolve(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let here: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isObject(here) && !Array.isArray(here)) return undefined;
    if (!Object.hasOwn(here, key)) return undefined;
    here = (here as Node)[key];
  }
  return here;
}

const SCHEMA_KEYWORDS = new Set([
  // core, applicator, unevaluated, validation, meta-data, format, content (2020-12)
  ...['$schema', '$id', '$ref', '$defs', '$anchor', '$dynamicRef', '$dynamicAnchor', '$vocabulary', '$comment'],
  ...['allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else', 'dependentSchemas', 'prefixItems', 'items', 'contains', 'properties', 'patternProperties', 'additionalProperties', 'propertyNames'],
  ...['unevaluatedItems', 'unevaluatedProperties'],
  ...['type', 'const', 'enum', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems'],
  ...['maxContains', 'minContains', 'maxProperties', 'minProperties', 'required', 'dependentRequired'],
  ...['title', 'description', 'default', 'deprecated', 'readOnly', 'writeOnly', 'examples', 'format', 'contentEncoding', 'contentMediaType', 'contentSchema'],
  // OpenAPI's own
  ...['discriminator', 'xml', 'externalDocs', 'example'],
]);
const ONE = ['not', 'if', 'then', 'else', 'contains', 'additionalProperties', 'propertyNames', 'items', 'unevaluatedItems', 'unevaluatedProperties', 'contentSchema'];
const LIST = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const MAP = ['properties', 'patternProperties', '$defs', 'dependentSchemas'];
const TYPES = new Set(['null', 'boolean', 'object', 'array', 'number', 'string', 'integer']);
const COUNTS = ['maxLength', 'minLength', 'maxItems', 'minItems', 'maxProperties', 'minProperties'];

/** What is wrong with a JSON Schema (and the schemas in it), each named by where it is; [] when nothing. */
export function schemaProblems(schema: unknown, at: string): string[] {
  if (typeof schema === 'boolean') return [];
  if (!isObject(schema)) return [`${at}: a schema is an object or a boolean`];
  const problems: string[] = [];
  const say = (what: string) => problems.push(`${at}: ${what}`);
  for (const key of Object.keys(schema)) if (!SCHEMA_KEYWORDS.has(key) && !key.startsWith('x-')) say(`unknown keyword ${key}`);
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  for (const t of types) if (typeof t !== 'string' || !TYPES.has(t)) say(`type ${JSON.stringify(t)}`);
  if (schema.pattern !== undefined) {
    try {
      new RegExp(schema.pattern as string, 'u');
    } catch (err) {
      say(`pattern does not compile: ${(err as Error).message}`);
    }
  }
  for (const k of COUNTS) if (schema[k] !== undefined && !(Number.isInteger(schema[k]) && (schema[k] as number) >= 0)) say(`${k} is not a count`);
  for (const [lo, hi] of [['minimum', 'maximum'], ['minLength', 'maxLength'], ['minItems', 'maxItems']] as const) {
    if (typeof schema[lo] === 'number' && typeof schema[hi] === 'number' && schema[lo] > schema[hi]) say(`${lo} > ${hi}`);
  }
  if (schema.enum !== undefined && !(Array.isArray(schema.enum) && schema.enum.length > 0)) say('enum is not a non-empty array');
  if (schema.required !== undefined) {
    const required = schema.required;
    if (!Array.isArray(required) || required.some((r) => typeof r !== 'string') || new Set(required).size !== required.length) say('required is not a list of distinct names');
    else if (schema.additionalProperties === false) for (const r of required as string[]) if (!isObject(schema.properties) || !(r in schema.properties)) say(`required ${r} can never be given`);
  }
  for (const k of ONE) if (schema[k] !== undefined) problems.push(...schemaProblems(schema[k], `${at}/${k}`));
  for (const k of LIST) {
    if (schema[k] === undefined) continue;
    if (!Array.isArray(schema[k]) || schema[k].length === 0) say(`${k} is not a non-empty list`);
    else for (const [i, s] of schema[k].entries()) problems.push(...schemaProblems(s, `${at}/${k}/${i}`));
  }
  for (const k of MAP) {
    if (schema[k] === undefined) continue;
    if (!isObject(schema[k])) say(`${k} is not an object`);
    else for (const [name, s] of Object.entries(schema[k])) problems.push(...schemaProblems(s, `${at}/${k}/${name}`));
  }
  return problems;
}

const ANNOTATIONS = new Set(['title', 'description', 'default', 'examples', 'example', 'deprecated', 'readOnly', 'writeOnly']);

/** Where a value breaks a schema ([] when it conforms). */
export function violations(schema: unknown, value: unknown, at = 'value'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${at}: nothing is allowed here`];
  const s = schema as Node;
  const out: string[] = [];
  const fail = (what: string) => out.push(`${at}: ${what}`);
  for (const [key, rule] of Object.entries(s)) {
    if (ANNOTATIONS.has(key)) continue;
    switch (key) {
      case 'type': {
        const types = Array.isArray(rule) ? (rule as string[]) : [rule as string];
        if (!types.some((t) => typeOf(value, t))) fail(`not of type ${types.join('|')}`);
        break;
      }
      case 'const':
        if (JSON.stringify(value) !== JSON.stringify(rule)) fail(`not ${JSON.stringify(rule)}`);
        break;
      case 'enum':
        if (!(rule as unknown[]).some((e) => JSON.stringify(e) === JSON.stringify(value))) fail(`not one of ${JSON.stringify(rule)}`);
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        if (typeof value === 'number' && !inBound(key, value, rule as number)) fail(`${key} ${String(rule)}`);
        break;
      case 'minLength':
      case 'maxLength':
        if (typeof value === 'string' && !inBound(key === 'minLength' ? 'minimum' : 'maximum', [...value].length, rule as number)) fail(`${key} ${String(rule)}`);
        break;
      case 'minItems':
      case 'maxItems':
        if (Array.isArray(value) && !inBound(key === 'minItems' ? 'minimum' : 'maximum', value.length, rule as number)) fail(`${key} ${String(rule)}`);
        break;
      case 'pattern':
        if (typeof value === 'string' && !new RegExp(rule as string, 'u').test(value)) fail(`does not match ${String(rule)}`);
        break;
      case 'required':
        if (isObject(value)) for (const r of rule as string[]) if (!(r in value)) fail(`${r} is missing`);
        break;
      case 'properties':
        if (isObject(value)) for (const [name, p] of Object.entries(rule as Node)) if (name in value) out.push(...violations(p, value[name], `${at}.${name}`));
        break;
      case 'additionalProperties':
        if (isObject(value)) for (const name of Object.keys(value)) if (!isObject(s.properties) || !(name in s.properties)) out.push(...violations(rule, value[name], `${at}.${name}`));
        break;
      case 'propertyNames':
        if (isObject(value)) for (const name of Object.keys(value)) out.push(...violations(rule, name, `${at} key ${name}`));
        break;
      case 'items':
        if (Array.isArray(value)) for (const [i, v] of value.entries()) if (i >= ((s.prefixItems as unknown[] | undefined)?.length ?? 0)) out.push(...violations(rule, v, `${at}[${i}]`));
        break;
      case 'prefixItems':
        if (Array.isArray(value)) for (const [i, p] of (rule as unknown[]).entries()) if (i < value.length) out.push(...violations(p, value[i], `${at}[${i}]`));
        break;
      case 'anyOf':
        if (!(rule as unknown[]).some((alt) => violations(alt, value, at).length === 0)) fail('matches none of anyOf');
        break;
      case 'oneOf':
        if ((rule as unknown[]).filter((alt) => violations(alt, value, at).length === 0).length !== 1) fail('does not match exactly one of oneOf');
        break;
      default:
        throw new Error(`${at}: the keyword ${key} is not checked here; teach violations() it`);
    }
  }
  return out;
}

function typeOf(value: unknown, type: string): boolean {
  if (type === 'null') return value === null;
  if (type === 'array') return Array.isArray(value);
  if (type === 'object') return isObject(value);
  if (type === 'integer') return Number.isInteger(value);
  return typeof value === type;
}

function inBound(key: string, n: number, bound: number): boolean {
  if (key === 'minimum') return n >= bound;
  if (key === 'maximum') return n <= bound;
  if (key === 'exclusiveMinimum') return n > bound;
  return n < bound;
}
