/**
 * zod's issues as blueprint issues: the path as `plan[2].with`, the message
 * in the words of the format (`required`, `unknown field "x"`, `must be one
 * of …`). A seed-style `agent:` or `prompt:` gets a hint to the fields this
 * format uses instead.
 */
import type { z } from 'zod';
import { issuePath } from '../../core/errors.ts';
import type { BlueprintIssue } from './references.ts';

const HINTS: Record<string, string> = {
  agent: ' — name the provider in `provider` (openai or anthropic) and the model in `model`',
  prompt: ' — the prompt goes in `prompt_template`',
};

export function shapeIssues(issues: readonly z.core.$ZodIssue[]): BlueprintIssue[] {
  return issues.flatMap((issue): BlueprintIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: issuePath('', [...issue.path, key]), message: `unknown field "${key}"${HINTS[key] ?? ''}` }));
    }
    return [{ path: issuePath('', issue.path) || '(blueprint)', message: messageOf(issue) }];
  });
}

function messageOf(issue: z.core.$ZodIssue): string {
  // Parsed with reportInput: a field that is not there at all is "required", whatever its type.
  if ('input' in issue && issue.input === undefined && issue.code !== 'custom') return 'required';
  switch (issue.code) {
    case 'invalid_type':
      {
      // A record is what YAML calls a mapping: name → value.
      const expected = issue.expected === 'record' ? 'object' : issue.expected;
      return `must be ${expected === 'int' ? 'an integer' : `${/^[aeiou]/.test(expected) ? 'an' : 'a'} ${expected}`}`;
    }
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${JSON.stringify(issue.values[0])}` : `must be one of ${issue.values.join(', ')}`;
    case 'invalid_union':
    {
      // A step whose kind matches none: zod lists the kinds there are.
      const options = (issue as { options?: unknown }).options;
      return Array.isArray(options) ? `must be one of ${options.join(', ')}` : issue.message;
    }
    case 'invalid_key':
      return `the name "${String(issue.path[issue.path.length - 1])}" ${issue.issues[0]?.message ?? 'is not valid'}`;
    case 'too_small':
      return issue.origin === 'array' ? `needs at least ${issue.minimum} ${issue.minimum === 1 ? 'entry' : 'entries'}` : issue.origin === 'string' ? 'must not be empty' : `must be at least ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array' ? `has more than ${issue.maximum} entries` : issue.origin === 'string' ? `is longer than ${issue.maximum} characters` : `must be at most ${issue.maximum}`;
    default:
      return issue.message;
  }
}
