/**
 * An `output: json` step's answer checked: parsed as JSON (a ```json fence
 * around it tolerated, as models like to add one), then held to the step's
 * `schema` — a JSON Schema (type, properties, required, items, enum,
 * additionalProperties) turned into a zod schema by zod's own
 * `z.fromJSONSchema`. What is wrong comes back as lines a model can act on
 * in its repair round, and a person can read in the step's error.
 *
 *   const check = answerChecker({ type: 'object', required: ['host'] });
 *   check('```json\n{"host": "a"}\n```'); // { ok: true, value: { host: 'a' } }
 */
import { z } from 'zod';
import { describeIssue } from '../../core/errors.ts';
import { AgentSchemaError } from './errors.ts';

export type AnswerCheck = { ok: true; value: unknown } | { ok: false; errors: string[] };

const FENCE = /```(?:json)?[ \t]*\r?\n?([\s\S]*?)```/;

/** A checker for answers to a step with this `schema` (none: any JSON); throws AgentSchemaError for a schema it cannot hold answers to. */
export function answerChecker(schema: Record<string, unknown> | undefined): (text: string) => AnswerCheck {
  let shape: z.ZodType | undefined;
  if (schema) {
    try {
      shape = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
    } catch (err) {
      throw new AgentSchemaError((err as Error).message);
    }
  }
  return (text) => {
    const parsed = parseJson(text);
    if (!parsed.ok || !shape) return parsed;
    const result = shape.safeParse(parsed.value);
    return result.success ? { ok: true, value: result.data } : { ok: false, errors: result.error.issues.map((issue) => describeIssue('answer', issue)) };
  };
}

/** The answer's JSON: the whole text, else what a ``` fence holds. */
function parseJson(text: string): AnswerCheck {
  const fenced = FENCE.exec(text)?.[1];
  for (const candidate of fenced === undefined ? [text] : [text, fenced]) {
    try {
      return { ok: true, value: JSON.parse(candidate) as unknown };
    } catch {
      // the next candidate, or the error below
    }
  }
  return { ok: false, errors: [`answer: not JSON (${text.length === 0 ? 'empty' : `starts ${JSON.stringify(text.slice(0, 60))}`})`] };
}
