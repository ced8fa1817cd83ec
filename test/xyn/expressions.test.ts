/**
 * The expression language of templates and `when`: precedence, every
 * operator and function, errors naming their column, paths through arrays,
 * the prototype guard and the limits; then what the validator and compileRun
 * do with expressions.
 */
import { describe, expect, it } from 'vitest';
import {
  compileRun,
  evaluate,
  evaluateCondition,
  expressionPaths,
  ExpressionError,
  parseExpression,
  resolveStepFields,
  resolveTemplates,
  scanTemplates,
  TemplateError,
  truthy,
  validateBlueprint,
  type Blueprint,
  type BlueprintStep,
} from '../../src/xyn/blueprint/index.ts';
import { issuesWith, step, validBlueprint } from './helpers.ts';

const context = {
  inputs: { host: 'db1', port: 5432, tags: ['a', 'b'], force: true, none: null, empty: '', n: [3, 1, 2], obj: { b: 2, a: 1 } },
  steps: { fetch: { outputs: { status: 200, json: { items: [{ id: 7, 'content-type': 'text/plain' }] }, text: '{"ok":true}' } } },
  event: { name: 'checkmk.alert', data: { severity: 'crit' } },
};
const run = (text: string) => evaluate(parseExpression(text), context);
const fails = (text: string) => {
  try {
    run(text);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`${text} did not fail`);
};

describe('operators', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['2 * 3 % 4', 2],
    ['7 / 2', 3.5],
    ['-2 - -3', 1],
    ['!0', true],
    ['!!inputs.host', true],
    ['1 + 2 < 4', true],
    ['1 < 2 == true', true],
    ['1 == 1 && 2 == 3', false],
    ['false || 1 == 1', true],
    ['true || false && false', true],
    ['null ?? 1 || 2', 1],
    ['inputs.force ? "yes" : "no"', 'yes'],
    ['false ? 1 : true ? 2 : 3', 2],
    ['inputs.port >= 5432 ? inputs.port + 1 : 0', 5433],
  ])('%s is %j (precedence)', (text, value) => {
    expect(run(text)).toEqual(value);
  });

  it('+ adds numbers, and joins when either side is a string (anything else as JSON)', () => {
    expect(run('1 + 2')).toBe(3);
    expect(run("'port ' + inputs.port")).toBe('port 5432');
    expect(run("inputs.tags + '!'")).toBe('["a","b"]!');
    expect(run("'x' + null")).toBe('xnull');
    expect(fails('inputs.tags + 1').message).toBe('"+" takes two numbers (or joins onto a string), not array and number at column 1');
  });

  it('arithmetic takes numbers; division by zero is an error', () => {
    expect(fails("'a' * 2")).toBeInstanceOf(ExpressionError);
    expect(fails("'a' * 2").message).toContain('"*" takes two numbers, not string and number');
    expect(fails('1 / 0').message).toContain('division by zero');
    expect(fails('5 % 0').message).toContain('division by zero');
    expect(fails("-'a'").message).toContain('"-" takes a number, not string');
    expect(fails('1e308 * 10').message).toContain('too large');
  });

  it('comparisons take two numbers or two strings', () => {
    expect(run('1 < 2')).toBe(true);
    expect(run('2 <= 2')).toBe(true);
    expect(run('3 > 4')).toBe(false);
    expect(run("'b' >= 'a'")).toBe(true);
    expect(fails("1 < '2'").message).toContain('"<" compares two numbers or two strings, not number and string');
  });

  it('== and != compare deeply, with no coercion', () => {
    expect(run('[1, [2, "x"]] == [1, [2, "x"]]')).toBe(true);
    expect(run('inputs.obj == inputs.obj')).toBe(true);
    expect(run("steps.fetch.outputs.json.items[0] == steps.fetch.outputs.json.items[0]")).toBe(true);
    expect(run('inputs.tags == ["a", "b"]')).toBe(true);
    expect(run('inputs.tags != ["b", "a"]')).toBe(true);
    expect(run("1 == '1'")).toBe(false);
    expect(run('0 == false')).toBe(false);
    expect(run('null == false')).toBe(false);
    expect(run('null != null')).toBe(false);
  });

  it('&& and || give the deciding operand; ?? skips only null and undefined', () => {
    expect(run('0 || "" || "x"')).toBe('x');
    expect(run('1 && 0')).toBe(0);
    expect(run('[] || "empty"')).toBe('empty');
    expect(run('inputs.host && inputs.port')).toBe(5432);
    expect(run('inputs.none ?? "d"')).toBe('d');
    expect(run('inputs.empty ?? "d"')).toBe('');
    expect(run('0 ?? 1')).toBe(0);
  });

  it('&& and || do not evaluate the side they do not need', () => {
    expect(run('false && inputs.missing')).toBe(false);
    expect(run('true || 1 / 0')).toBe(true);
    expect(run('true ? 1 : inputs.missing')).toBe(1);
  });

  it('literals: numbers, both quotes with escapes, true, false, null, arrays', () => {
    expect(run('1.5e2')).toBe(150);
    expect(run("'it\\'s'")).toBe("it's");
    expect(run('"a\\nb\\t\\u0041\\\\"')).toBe('a\nb\tA\\');
    expect(run('[true, false, null, [], "x"]')).toEqual([true, false, null, [], 'x']);
  });
});

describe('paths', () => {
  it('go through objects and arrays, by dots, [number] and [\'key\']', () => {
    expect(run('steps.fetch.outputs.json.items[0].id')).toBe(7);
    expect(run('steps.fetch.outputs.json.items.0.id')).toBe(7);
    expect(run("steps.fetch.outputs.json.items[0]['content-type']")).toBe('text/plain');
    expect(run('event.data["severity"]')).toBe('crit');
    expect(run('event.name')).toBe('checkmk.alert');
  });

  it('expressionPaths lists every path read, as segments', () => {
    expect(expressionPaths(parseExpression("steps.fetch.outputs.json.items[0].id == inputs.port ? upper(event.data['a.b']) : [inputs.x]"))).toEqual([
      ['steps', 'fetch', 'outputs', 'json', 'items', '0', 'id'],
      ['inputs', 'port'],
      ['event', 'data', 'a.b'],
      ['inputs', 'x'],
    ]);
    expect(expressionPaths(parseExpression('1 + 2'))).toEqual([]);
  });

  it('a path that is not there is a TemplateError naming it and where it stopped', () => {
    expect(fails('inputs.nope')).toBeInstanceOf(TemplateError);
    expect(fails('inputs.nope').message).toBe('inputs.nope does not resolve: inputs has no "nope"');
    expect(fails('inputs.tags[5]').message).toBe('inputs.tags.5 does not resolve: inputs.tags has no "5"');
    expect(fails('steps.fetch.outputs.json.items.0.name').message).toContain('steps.fetch.outputs.json.items.0 has no "name"');
  });

  it('only inputs, steps and event are roots', () => {
    expect(fails('env.HOME').message).toBe('env.HOME does not resolve: the context has no "env"');
    expect(() => evaluate(parseExpression('toString'), context)).toThrow(TemplateError);
  });

  it('never reaches what a value inherits: __proto__, constructor, prototype, length', () => {
    expect(fails('inputs.__proto__')).toBeInstanceOf(TemplateError);
    expect(fails('inputs.constructor').message).toContain('inputs has no "constructor"');
    expect(fails("inputs.obj['constructor']['prototype']").message).toContain('inputs.obj has no "constructor"');
    expect(fails('inputs.tags.length').message).toContain('inputs.tags has no "length"');
    expect(fails('inputs.host.length').message).toContain('inputs.host has no "length"');
    expect(fails('steps.__proto__.x')).toBeInstanceOf(TemplateError);
  });

  it('a path that is not there is undefined as the left of ?? and the first argument of default', () => {
    expect(run('inputs.missing ?? "d"')).toBe('d');
    expect(run('steps.skipped.outputs.x ?? 0')).toBe(0);
    expect(run('default(inputs.missing, 4)')).toBe(4);
    expect(fails('default(4, inputs.missing)')).toBeInstanceOf(TemplateError);
    expect(fails('(inputs.missing) + 1 ?? 2')).toBeInstanceOf(TemplateError);
  });
});

describe('functions', () => {
  it.each([
    ['length("abc")', 3],
    ['length(inputs.tags)', 2],
    ['length(inputs.obj)', 2],
    ['upper(inputs.host)', 'DB1'],
    ['lower("AbC")', 'abc'],
    ['trim("  x ")', 'x'],
    ['contains("hello", "ell")', true],
    ['contains(inputs.tags, "b")', true],
    ['contains([[1], [2]], [2])', true],
    ['contains(inputs.tags, "c")', false],
    ['starts_with(inputs.host, "db")', true],
    ['ends_with(inputs.host, "2")', false],
    ['join(inputs.tags, ", ")', 'a, b'],
    ['join([1, null, "x"], "-")', '1-null-x'],
    ['split("a,b,,c", ",")', ['a', 'b', '', 'c']],
    ['to_json(inputs.obj)', '{"b":2,"a":1}'],
    ['from_json(steps.fetch.outputs.text)', { ok: true }],
    ['number(" 42 ")', 42],
    ['number(true)', 1],
    ['number(2.5)', 2.5],
    ['string(5)', '5'],
    ['string(inputs.tags)', '["a","b"]'],
    ['string("x")', 'x'],
    ['bool([])', false],
    ['bool(inputs.obj)', true],
    ['bool("0")', true],
    ['round(2.345, 2)', 2.35],
    ['round(2.5)', 3],
    ['round(-2.5)', -3],
    ['floor(-1.5)', -2],
    ['ceil(1.2)', 2],
    ['abs(-3)', 3],
    ['min(3, 1, 2)', 1],
    ['max(inputs.n)', 3],
    ['sum(inputs.n)', 6],
    ['sum([])', 0],
    ['keys(inputs.obj)', ['b', 'a']],
    ['values(inputs.obj)', [2, 1]],
    ['default(inputs.empty, "x")', 'x'],
    ['default(inputs.none, "x")', 'x'],
    ['default(0, "x")', 0],
  ])('%s is %j', (text, value) => {
    expect(run(text)).toEqual(value);
  });

  it('a wrong type is an ExpressionError naming the function and the argument', () => {
    expect(fails('upper(inputs.port)')).toBeInstanceOf(ExpressionError);
    expect(fails('upper(inputs.port)').message).toBe('upper: argument 1 must be a string, got number');
    expect(fails('contains(inputs.tags)').message).toContain('contains takes 2 arguments, not 1');
    expect(fails('contains("abc", 1)').message).toBe('contains: argument 2 must be a string, got number');
    expect(fails('contains(5, 1)').message).toBe('contains: argument 1 must be a string or an array, got number');
    expect(fails('length(5)').message).toBe('length: argument 1 must be a string, an array or an object, got number');
    expect(fails('join("a", ",")').message).toBe('join: argument 1 must be an array, got string');
    expect(fails('keys(inputs.tags)').message).toBe('keys: argument 1 must be an object, got array');
    expect(fails('sum(inputs.tags)').message).toBe('sum: entry 0 must be a number, got string');
    expect(fails('min(1, "2")').message).toBe('min: argument 2 must be a number, got string');
    expect(fails('number("4x")').message).toContain('number: argument 1 must be a number, a numeric string or a boolean, got "4x"');
    expect(fails('from_json("{")').message).toContain('from_json: argument 1 is not valid JSON');
    expect(fails('round(1.5, 1.5)').message).toContain('round: argument 2 must be a whole number from 0 to 15');
  });

  it('a function’s result is a value, not a path: it cannot be indexed', () => {
    expect(() => parseExpression('from_json(steps.fetch.outputs.text).ok')).toThrow('unexpected "." at column 36');
  });

  it('only the allowed functions exist: now() and the like do not parse', () => {
    expect(() => parseExpression('now()')).toThrow(/^"now" is not a function \(the functions are length, upper, .*default\) at column 1 in "now\(\)"$/);
    expect(() => parseExpression('constructor(1)')).toThrow('"constructor" is not a function');
    expect(() => parseExpression('round()')).toThrow('round takes 1 or 2 arguments, not 0 at column 1');
    expect(() => parseExpression('max()')).toThrow('max takes at least 1 argument');
  });
});

describe('truthy', () => {
  it('false, null, undefined, 0, "" and [] are false; the rest true', () => {
    expect([false, null, undefined, 0, '', []].map(truthy)).toEqual([false, false, false, false, false, false]);
    expect([true, 1, -1, 'x', '0', [0], {}].map(truthy)).toEqual([true, true, true, true, true, true, true]);
  });
});

describe('parse errors name the column', () => {
  it.each([
    ['a == )', 'unexpected ")" at column 6 in "a == )"'],
    ['1 +', 'unexpected end at column 4 in "1 +"'],
    ['1 = 2', 'unexpected "=" at column 3 in "1 = 2"'],
    ['"abc', 'unterminated string at column 1 in ""abc"'],
    ["'a\\q'", 'unknown escape "\\q" at column 3'],
    ['inputs.', 'unexpected end at column 8'],
    ['inputs.tags[1.5]', 'an index is a whole number or a quoted key at column 13'],
    ['inputs.tags[-1]', 'unexpected "-" at column 13'],
    ['(1 + 2', 'unexpected end at column 7'],
    ['1 2', 'unexpected "2" at column 3'],
    ['a ? b', 'unexpected end at column 6'],
    ['[1, 2', 'unexpected end at column 6'],
    ['x # y', 'unexpected "#" at column 3'],
  ])('%s: %s', (text, message) => {
    const err = (() => {
      try {
        parseExpression(text);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ExpressionError);
    expect((err as Error).message).toContain(message);
  });
});

describe('limits', () => {
  it('the text is at most 4096 characters', () => {
    expect(() => parseExpression(`"${'x'.repeat(4093)}"`)).not.toThrow();
    expect(() => parseExpression(`"${'x'.repeat(4095)}"`)).toThrow('is longer than 4096 characters');
  });

  it('the tree is at most 64 deep, nested or chained, without a stack overflow', () => {
    expect(() => parseExpression(`${'('.repeat(63)}1${')'.repeat(63)}`)).not.toThrow();
    expect(() => parseExpression(`${'('.repeat(70)}1${')'.repeat(70)}`)).toThrow('nests deeper than 64 levels');
    expect(() => parseExpression('('.repeat(4000))).toThrow('nests deeper than 64 levels');
    expect(() => parseExpression('!'.repeat(100) + '1')).toThrow('nests deeper than 64 levels');
    expect(() => parseExpression(Array(64).fill('1').join('+'))).not.toThrow();
    expect(() => parseExpression(Array(66).fill('1').join('+'))).toThrow('nests deeper than 64 levels');
  });

  it('a string made is at most 1 MiB; split makes at most 100k entries', () => {
    const big = { inputs: { s: 'x'.repeat(600 * 1024), list: Array(200_000).fill('a') } };
    expect(evaluate(parseExpression('length(inputs.s + "y")'), big)).toBe(600 * 1024 + 1);
    expect(() => evaluate(parseExpression('inputs.s + inputs.s'), big)).toThrow('"+" makes a string longer than 1048576 characters');
    expect(() => evaluate(parseExpression('upper(inputs.s + inputs.s)'), big)).toThrow(ExpressionError);
    expect(() => evaluate(parseExpression('join([inputs.s, inputs.s], "")'), big)).toThrow('join makes a string longer');
    expect(() => evaluate(parseExpression('to_json([inputs.s, inputs.s])'), big)).toThrow('to_json makes a string longer');
    expect(evaluate(parseExpression('length(split(join(inputs.list, ","), ","))'), { inputs: { list: Array(100_000).fill('a') } })).toBe(100_000);
    expect(() => evaluate(parseExpression('split(join(inputs.list, ","), ",")'), big)).toThrow('split: makes more than 100000 entries');
  });
});

describe('templates are expressions', () => {
  it('a whole-string template keeps its value’s type; embedded ones are stringified', () => {
    expect(resolveTemplates('{{ inputs.port + 1 }}', context)).toBe(5433);
    expect(resolveTemplates('{{ inputs.port > 1000 }}', context)).toBe(true);
    expect(resolveTemplates('{{ split("a b", " ") }}', context)).toEqual(['a', 'b']);
    expect(resolveTemplates('{{ upper(inputs.host) }}:{{ inputs.port }} {{ [1, 2] }}', context)).toBe('DB1:5432 [1,2]');
    expect(resolveTemplates({ n: '{{ steps.fetch.outputs.json.items[0].id * 2 }}' }, context)).toEqual({ n: 14 });
  });

  it('errors name the template', () => {
    expect(() => resolveTemplates('x {{ inputs.nope + 1 }}', context)).toThrow('{{ inputs.nope + 1 }} does not resolve: inputs has no "nope"');
    expect(() => resolveTemplates('{{ upper(inputs.port) }}', context)).toThrow('{{ upper(inputs.port) }}: upper: argument 1 must be a string, got number');
    expect(() => resolveTemplates('{{ 1 + }}', context)).toThrow('{{ 1 + }} is not a valid expression: unexpected end at column 4');
  });

  it('scanTemplates gives one use per path read, and the templates that do not parse', () => {
    expect(scanTemplates({ a: 'x {{ inputs.a + steps.s.outputs.o[0] }} {{ 1 + 2 }}', b: ['{{ ) }}'] })).toEqual({
      uses: [
        { text: '{{ inputs.a + steps.s.outputs.o[0] }}', path: ['inputs', 'a'], at: ['a'] },
        { text: '{{ inputs.a + steps.s.outputs.o[0] }}', path: ['steps', 's', 'outputs', 'o', '0'], at: ['a'] },
      ],
      invalid: [{ text: '{{ ) }}', at: ['b', 0], error: expect.any(ExpressionError) }],
    });
  });
});

describe('when', () => {
  it('is one expression, bare or wrapped in one {{ }}; its truthiness decides', () => {
    expect(evaluateCondition('steps.fetch.outputs.status == 200 && inputs.force', context)).toBe(true);
    expect(evaluateCondition('{{ steps.fetch.outputs.status == 200 && !inputs.force }}', context)).toBe(false);
    expect(evaluateCondition(' {{inputs.tags}} ', context)).toBe(true);
    expect(evaluateCondition('inputs.empty', context)).toBe(false);
    expect(evaluateCondition('[]', context)).toBe(false);
    expect(evaluateCondition('length(inputs.tags) > 1', context)).toBe(true);
  });

  it('refuses a when that is not one expression, and names a path that does not resolve', () => {
    expect(() => evaluateCondition('{{ inputs.force }} && {{ inputs.host }}', context)).toThrow('a when is one expression: bare, or the whole text in one {{ }}');
    expect(() => evaluateCondition('inputs.force &&', context)).toThrow('unexpected end at column 16');
    expect(() => evaluateCondition('steps.x.outputs.y == 1', context)).toThrow('steps.x.outputs.y == 1 does not resolve: steps has no "x"');
  });
});

type Bp = Record<string, unknown> & { plan: Record<string, unknown>[] };

describe('the validator reads expressions', () => {
  it.each([
    ['a template that does not parse', (bp: Bp) => Object.assign(step(bp, 2).outputs as object, { total: '{{ 1 + }}' }), 'plan[2].outputs.total', '{{ 1 + }} is not a valid expression: unexpected end at column 4'],
    ['an unknown function', (bp: Bp) => (step(bp, 0).prompt_template = 'at {{ now() }}'), 'plan[0].prompt_template', /^\{\{ now\(\) \}\} is not a valid expression: "now" is not a function \(the functions are .*\) at column 1$/],
    ['a bad path inside an expression', (bp: Bp) => (step(bp, 3).with = { n: '{{ inputs.port + 1 }}' }), 'plan[3].with.n', '{{ inputs.port + 1 }}: inputs.port does not resolve — inputs are host, service'],
    ['a later step inside an expression', (bp: Bp) => (step(bp, 0).prompt_template = '{{ default(steps.shape.outputs.cmd, "") }}'), 'plan[0].prompt_template', '{{ default(steps.shape.outputs.cmd, "") }}: steps.shape.outputs.cmd names a step that runs later (shape is plan[2])'],
    ['a bare when that does not parse', (bp: Bp) => (step(bp, 1).when = 'steps.analyze.outputs.text =='), 'plan[1].when', 'steps.analyze.outputs.text == is not a valid expression: unexpected end at column 30'],
    ['a bare when naming an unknown input', (bp: Bp) => (step(bp, 1).when = 'inputs.forse'), 'plan[1].when', 'inputs.forse does not resolve — inputs are host, service'],
    ['a bare when naming an output the step lacks', (bp: Bp) => (step(bp, 1).when = 'steps.analyze.outputs.status == 200'), 'plan[1].when', 'steps.analyze.outputs.status == 200: steps.analyze.outputs.status does not resolve — analyze (agent_task) has outputs text, json, provider, model, usage'],
    ['a when with two templates', (bp: Bp) => (step(bp, 1).when = '{{ inputs.host }} == {{ inputs.service }}'), 'plan[1].when', /is not a valid expression: a when is one expression/],
    ['a blueprint output that does not parse', (bp: Bp) => (bp.outputs = [{ name: 's', value: { deep: ['{{ inputs.host ?? }}'] } }]), 'outputs[0].value.deep[0]', '{{ inputs.host ?? }} is not a valid expression: unexpected end at column 15'],
  ])('refuses %s, naming the field', (_what, change, path, message) => {
    const issues = issuesWith(change);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe(path);
    if (typeof message === 'string') expect(issues[0]?.message).toBe(message);
    else expect(issues[0]?.message).toMatch(message);
  });

  it.each([
    ['a bare when on an earlier step', (bp: Bp) => (step(bp, 3).when = 'steps.analyze.outputs.json.ok == true && inputs.host != "prod"')],
    ['a wrapped when', (bp: Bp) => (step(bp, 3).when = '{{ contains(steps.analyze.outputs.text, "fix") }}')],
    ['an expression reading no path', (bp: Bp) => Object.assign(step(bp, 2).outputs as object, { n: '{{ round(10 / 3, 2) }}' })],
    ['a gate output in a when', (bp: Bp) => (step(bp, 3).when = 'steps.approve.outputs.approved')],
    ['bracket indexing into an output', (bp: Bp) => (step(bp, 3).with = { ct: "{{ steps.analyze.outputs.json.headers['content-type'] }}" })],
  ])('accepts %s', (_what, change) => {
    expect(issuesWith(change)).toEqual([]);
  });
});

function blueprint(change: (bp: Bp) => void): Blueprint {
  const raw = validBlueprint() as Bp;
  change(raw);
  const r = validateBlueprint(raw);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.blueprint;
}

describe('compileRun with expressions', () => {
  it('fills input-only expressions now and leaves those reading step outputs for later', () => {
    const bp = blueprint((raw) => {
      step(raw, 2).outputs = { cmd: '{{ upper(inputs.service) + " " + inputs.host }}', n: '{{ length(inputs.host) * 2 }}', later: '{{ inputs.host + steps.analyze.outputs.text }}' };
      step(raw, 3).with = { host: '{{ inputs.host }}', cmd: '{{ default(steps.shape.outputs.cmd, "true") }}' };
    });
    const r = compileRun(bp, { host: 'db1' });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.run.steps[2]).toMatchObject({ outputs: { cmd: 'SSH db1', n: 6, later: '{{ inputs.host + steps.analyze.outputs.text }}' } });
    expect(r.run.steps[3]).toMatchObject({ with: { host: 'db1', cmd: '{{ default(steps.shape.outputs.cmd, "true") }}' } });
  });

  it('decides a when that reads only inputs, and leaves one reading step outputs', () => {
    const bp = blueprint((raw) => {
      step(raw, 1).when = 'inputs.service == "ssh"';
      step(raw, 2).when = '{{ starts_with(inputs.host, "prod") }}';
      step(raw, 3).when = 'steps.shape.outputs.cmd != "" && inputs.host != "x"';
    });
    const r = compileRun(bp, { host: 'db1' });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.run.steps.map((s) => s.when)).toEqual([undefined, 'true', 'false', 'steps.shape.outputs.cmd != "" && inputs.host != "x"']);
    expect(evaluateCondition(r.run.steps[1]?.when ?? '', {})).toBe(true);
  });

  it('an expression failing on the inputs is an issue naming the field', () => {
    const bp = blueprint((raw) => (step(raw, 0).prompt_template = 'Alert on {{ upper(inputs.host) }}'));
    expect(compileRun(bp, { host: 42 })).toEqual({
      ok: false,
      issues: [{ path: 'plan[0].prompt_template', message: '{{ upper(inputs.host) }}: upper: argument 1 must be a string, got number' }],
    });
  });

  it('resolveStepFields fills a step’s fields at its start, leaving its when', () => {
    const s = { kind: 'action_task', id: 'run_fix', action: 'ssh.run', when: 'steps.shape.outputs.cmd != ""', with: { cmd: '{{ trim(steps.shape.outputs.cmd) }}', n: '{{ inputs.n + 1 }}' } } as BlueprintStep;
    expect(resolveStepFields(s, { inputs: { n: 1 }, steps: { shape: { outputs: { cmd: ' go ' } } } })).toEqual({ ...s, with: { cmd: 'go', n: 2 } });
  });
});
