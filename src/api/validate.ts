/** Request input checked with zod: the first problem, named (`query.limit: …`, `body.event_name: …`), as a 400. */
import type { z } from 'zod';
import { describeIssue } from '../core/errors.ts';
import { badRequest } from './errors.ts';
import type { ApiRequest } from './router.ts';

export function parseInput<T extends z.ZodType>(schema: T, value: unknown, where: 'body' | 'query' = 'body'): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0] as z.core.$ZodIssue;
  throw badRequest(describeIssue(where, issue));
}

export function parseQuery<T extends z.ZodType>(schema: T, req: ApiRequest): z.infer<T> {
  return parseInput(schema, Object.fromEntries(req.query), 'query');
}
