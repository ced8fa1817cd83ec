/**
 * Topic names and subscription patterns, with NATS rules.
 *
 * A topic is dot-separated tokens (`hxo.shard.done`). A pattern may use `*`
 * for exactly one token and `>` (last token only) for one or more trailing
 * tokens: `hxo.shard.*` matches `hxo.shard.done`, `xyn.>` matches `xyn.run.started`
 * but not `xyn` itself.
 */
import { ValidationError } from '../core/errors.ts';

const TOKEN_RE = /^[A-Za-z0-9_\-:]+$/;

/** The longest event name an outsider (an API caller, a workflow) may emit. */
export const EMIT_NAME_MAX = 200;

/** Throws unless `name` is a concrete topic (no wildcards, no empty tokens). */
export function assertTopic(name: string): void {
  const tokens = name.split('.');
  for (const token of tokens) {
    if (!TOKEN_RE.test(token)) {
      throw new ValidationError(
        `invalid topic "${name}": tokens are letters, digits, _ - : separated by single dots, with no wildcards`,
        'topic',
      );
    }
  }
}

export type TopicMatcher = (topic: string) => boolean;

/** Compiles a pattern once into a matcher; throws a ValidationError naming the bad token. */
export function compilePattern(pattern: string): TopicMatcher {
  const tokens = pattern.split('.');
  tokens.forEach((token, i) => {
    const ok = token === '*' || (token === '>' && i === tokens.length - 1) || TOKEN_RE.test(token);
    if (!ok) {
      throw new ValidationError(
        `invalid topic pattern "${pattern}": token ${i + 1} ("${token}") must be a name, "*", or ">" as the last token`,
        'topic',
      );
    }
  });
  if (!tokens.includes('*') && !tokens.includes('>')) return (topic) => topic === pattern;
  const tail = tokens[tokens.length - 1] === '>';
  const fixed = tail ? tokens.slice(0, -1) : tokens;
  return (topic) => {
    const parts = topic.split('.');
    if (tail ? parts.length <= fixed.length : parts.length !== fixed.length) return false;
    for (let i = 0; i < fixed.length; i++) {
      if (fixed[i] !== '*' && fixed[i] !== parts[i]) return false;
    }
    return true;
  };
}

export function matchesTopic(pattern: string, topic: string): boolean {
  return compilePattern(pattern)(topic);
}
