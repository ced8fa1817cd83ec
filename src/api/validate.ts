/**
 * Request input checked with the route's own zod schemas, before its handler
 * runs: the first problem, named (`query.limit: …`, `body.event_name: …`), as
 * a 400. The same schemas describe the request in the OpenAPI document.
 */
import { z } from 'zod';
import { describeIssue } from '../core/errors.ts';
import { badRequest } from './errors.ts';
import type { Route } from './router.ts';

export function parseInput<T extends z.ZodType>(schema: T, value: unknown, where: 'body' | 'query' = 'body'): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0] as z.core.$ZodIssue;
  throw badRequest(describeIssue(where, issue));
}

/** A request's query and body as its route's schemas make them (a query with no schema: its fields as strings; an upload's body is its route's to read). */
export function routeInput(route: Route, query: URLSearchParams, body: unknown): { query: unknown; body: unknown } {
  const fields = Object.fromEntries(query);
  return {
    query: route.query ? parseInput(route.query, fields, 'query') : fields,
    body: !route.body || route.upload ? body : route.checkBody ? route.checkBody(body) : parseInput(route.body, body),
  };
}

/**
 * The body of a POST whose handler reads none (abort, revoke): any JSON, as
 * every POST needs one (http.ts).
 */
export const UNREAD_BODY = z.unknown().describe('any JSON (not read): `{}` will do');
