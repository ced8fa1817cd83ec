import { describe, expect, it } from 'vitest';
import { assertTopic, compilePattern } from '../../src/kernel/topic.ts';
import { ValidationError } from '../../src/kernel/errors.ts';

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
