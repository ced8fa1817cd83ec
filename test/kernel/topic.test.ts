import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertTopic, compilePattern } from '../../src/kernel/topic.ts';
import { ValidationError, deserializeError, serializeError } from '../../src/core/errors.ts';
import { ReservedTopicError, assertEmittable } from '../../src/kernel/namespaces.ts';

describe('topic patterns (NATS rules)', () => {
  const table: [pattern: string, topic: string, matches: boolean][] = [
    ['hxo.plan', 'hxo.plan', true],
    ['hxo.plan', 'hxo.plans', false],
    ['hxo.plan', 'hxo.plan.x', false],
    ['hxo.shard.*', 'hxo.shard.done', true],
    ['hxo.shard.*', 'hxo.shard.created', true],
    ['hxo.shard.*', 'hxo.shard', false],
    ['hxo.shard.*', 'hxo.shard.done.extra', false],
    ['hxo.*.done', 'hxo.shard.done', true],
    ['hxo.*.done', 'hxo.shard.failed', false],
    ['*.*', 'a.b', true],
    ['*.*', 'a', false],
    ['*', 'hxo', true],
    ['*', 'hxo.plan', false],
    ['xyn.>', 'xyn.run.started', true],
    ['xyn.>', 'xyn.run', true],
    ['xyn.>', 'xyn', false],
    ['xyn.>', 'xynx.run', false],
    ['>', 'anything.at.all', true],
    ['>', 'one', true],
    ['hxo.*.>', 'hxo.aggregate.ready', true],
    ['hxo.*.>', 'hxo.aggregate', false],
    ['hxo.aggregate.*', 'hxo.aggregate.finalized', true],
    ['genesis.heal', 'genesis.heal', true],
    ['genesis.*', 'hxo.heal', false],
  ];

  it.each(table)('%s vs %s → %s', (pattern, topic, expected) => {
    expect(compilePattern(pattern)(topic)).toBe(expected);
  });

  const badPatterns = ['', 'a..b', 'a.>.b', 'a.b*', 'a b', '.a', 'a.', '>.a', 'a.*x'];
  it.each(badPatterns)('refuses pattern %j with a ValidationError naming the token', (pattern) => {
    expect(() => compilePattern(pattern)).toThrow(ValidationError);
    expect(() => compilePattern(pattern)).toThrow(/invalid topic pattern/);
  });

  it.each(['hxo.*', 'hxo.>', 'a..b', '', 'has space'])('refuses publishing to %j', (topic) => {
    expect(() => assertTopic(topic)).toThrow(ValidationError);
  });
});

describe('node-owned namespaces: what an outsider may emit', () => {
  const token = fc.stringMatching(/^[A-Za-z0-9_\-:]{1,10}$/);
  const caseVariant = (word: string) => fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length }).map((up) => [...word].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));

  it('the control topics, spelled exactly, are emittable (the API checks who may)', () => {
    expect(assertEmittable('genesis.heal')).toBe('genesis.heal');
    expect(assertEmittable('genesis.intent')).toBe('genesis.intent');
  });

  it('property: hxo, xyn and genesis in any letter case, alone or with trailing tokens, are refused naming the topic, the namespace and a name to use instead', () => {
    const names = fc
      .tuple(fc.constantFrom('hxo', 'xyn', 'genesis'), fc.array(token, { maxLength: 4 }))
      .chain(([ns, rest]) => caseVariant(ns).map((first) => ({ ns, name: [first, ...rest].join('.') })))
      .filter(({ name }) => name !== 'genesis.heal' && name !== 'genesis.intent');
    fc.assert(
      fc.property(names, ({ ns, name }) => {
        assertTopic(name);
        let thrown: unknown;
        try {
          assertEmittable(name);
        } catch (err) {
          thrown = err;
        }
        expect(thrown).toBeInstanceOf(ReservedTopicError);
        const err = thrown as ReservedTopicError;
        expect(err.namespace).toBe(ns);
        expect(err.topic).toBe(name);
        expect(err.message).toContain(`"${name}" is in the node-owned namespace "${ns}"`);
        expect(err.message).toContain(`e.g. "${err.suggestion}"`);
        // What it suggests is itself emittable, or it is a control topic.
        expect(['genesis.heal', 'genesis.intent', undefined]).toContain(assertEmittable(err.suggestion));
      }),
      { numRuns: 2000 },
    );
  });

  it('property: a first token that is not a node namespace is the caller\'s own, whatever follows', () => {
    const names = fc
      .tuple(token, fc.array(token, { maxLength: 4 }))
      .filter(([first]) => !['hxo', 'xyn', 'genesis'].includes(first.toLowerCase()))
      .map(([first, rest]) => [first, ...rest].join('.'));
    fc.assert(fc.property(names, (name) => {
        expect(assertEmittable(name)).toBeUndefined();
      }), { numRuns: 2000 });
    for (const name of ['hxox.plan', 'app.hxo', 'xyn_audit', 'my.genesis.heal', 'x.xyn.audit']) expect(assertEmittable(name)).toBeUndefined();
  });

  it('a refusal survives a thread hop as its own class', () => {
    let err: unknown;
    try {
      assertEmittable('HXO.plan');
    } catch (e) {
      err = e;
    }
    const back = deserializeError(serializeError(err));
    expect(back).toBeInstanceOf(ReservedTopicError);
    expect(back).toMatchObject({ topic: 'HXO.plan', namespace: 'hxo', suggestion: 'app.plan' });
  });
});
