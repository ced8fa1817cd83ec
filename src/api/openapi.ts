/**
 * The API as an OpenAPI 3.1 document, made once, at start, from the route
 * table and served at `GET /api/v1/openapi.json`. All of it comes from the
 * routes themselves — path, capability, summary, the shapes of path ids
 * (params.ts), the zod schemas that check queries and bodies (validate.ts),
 * what each answers — and from the error shape (errors.ts): a route cannot
 * be served and not described, nor described otherwise than it is checked.
 * test/api/openapi.test.ts holds the document to the table.
 */
import { ERROR_BODY } from './errors.ts';
import { CORRELATION_ID } from './http.ts';
import { jsonSchema, type JsonSchema } from './json-schema.ts';
import { streamOperation } from './openapi-stream.ts';
import type { Route } from './router.ts';
import { STREAM_PATH } from './stream-limits.ts';

export const OPENAPI_PATH = '/api/v1/openapi.json';

type Json = Record<string, unknown>;

const ABOUT =
  'Every route but the public ones needs a token: Authorization: Bearer <token> (?token= is refused, 401, everywhere but the stream). ' +
  'Every failure is {error: {code, message, details}, correlation_id} (components.schemas.Error), with a 4xx for whatever the caller did. ' +
  'Besides the answers listed per operation: an unknown path is 404, a known one with another method 405 (with Allow); ' +
  'the gate in front answers 400 for a malformed request, 408 for one that did not arrive within 10 s, 431 for a head too large. ' +
  'HEAD is served wherever GET is, without the body.';

/** What the edge answers for every route of a kind, before its handler runs (http.ts). */
const EDGE = {
  400: 'bad input: the path parameter, query field or body field at fault is named in the message (details.field where there is one)',
  401: 'no token, or one that is not valid (unknown or revoked)',
  403: "the token's role lacks the capability (named in the message)",
  413: 'the body is over the size limit (1 MiB by default)',
  415: 'the body is not application/json',
  500: 'a bug or a broken node: logged with the correlation id',
};

/** The routes, and the route that serves their document. */
export function withOpenApi(routes: readonly Route[], version: string): Route[] {
  const served: Route = {
    method: 'GET',
    path: OPENAPI_PATH,
    // Public, as health is: it tells how to call the node — how to authenticate, to begin with — and
    // holds none of its data (what any node of this version and configuration serves), so a client or
    // a tool reads it before it has a token.
    capability: 'public',
    summary: 'this document: the API as OpenAPI 3.1',
    answers: { 200: 'the OpenAPI 3.1 document' },
    handle: () => ({ contentType: 'application/json', bytes: document }),
  };
  const all = [...routes, served];
  const document = Buffer.from(JSON.stringify(openApiDocument(all, version)));
  return all;
}

export function openApiDocument(routes: readonly Route[], version: string): Json {
  const paths: Record<string, Json> = {};
  for (const route of routes) (paths[openApiPath(route.path)] ??= {})[route.method.toLowerCase()] = operation(route);
  if (paths[STREAM_PATH]) throw new Error(`a route takes the stream's path ${STREAM_PATH}`);
  paths[STREAM_PATH] = { get: streamOperation(refusal) };
  return {
    openapi: '3.1.0',
    info: { title: 'xyn', version, description: ABOUT },
    paths,
    components: {
      schemas: { Error: jsonSchema(ERROR_BODY, 'output') },
      parameters: {
        CorrelationId: { name: 'X-Correlation-Id', in: 'header', required: false, description: 'kept when it has this shape, else one is made', schema: { type: 'string', pattern: CORRELATION_ID.source } },
      },
      headers: {
        CorrelationId: { description: "the request's correlation id: in its log line, its audit records and the events of what it started", schema: { type: 'string' } },
      },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'a token: the admiral token `xyn serve` prints on its first start, or one made with POST /api/v1/tokens' },
        query_token: { type: 'apiKey', in: 'query', name: 'token', description: "the stream's upgrade only: browsers cannot set its headers" },
      },
    },
    security: [{ bearer: [] }],
  };
}

/** `/api/hxo/status/:id` → `/api/hxo/status/{id}` */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function operation(route: Route): Json {
  const open = route.capability === 'public';
  return {
    operationId: [route.method.toLowerCase(), ...route.path.split('/').slice(2).map((s) => (s.startsWith(':') ? `by_${s.slice(1)}` : s))].join('_').replace(/[^A-Za-z0-9_]/g, '_'),
    summary: route.summary,
    ...(open ? {} : { description: `Needs the ${route.capability} capability.` }),
    'x-capability': route.capability,
    security: open ? [] : [{ bearer: [] }],
    parameters: [{ $ref: '#/components/parameters/CorrelationId' }, ...pathParameters(route), ...queryParameters(route)],
    ...(route.body || route.upload ? { requestBody: { required: true, content: requestContent(route) } } : {}),
    responses: responses(route),
  };
}

/** JSON with its schema; an upload's other media types as bytes. */
function requestContent(route: Route): Json {
  const types = route.upload?.consumes ?? ['application/json'];
  return Object.fromEntries(types.map((type) => [type, type === 'application/json' && route.body ? { schema: jsonSchema(route.body) } : {}]));
}

function pathParameters(route: Route): Json[] {
  return Object.entries(route.params ?? {}).map(([name, shape]) => ({
    name,
    in: 'path',
    required: true,
    description: shape.expected,
    schema: { type: 'string', pattern: shape.pattern.source },
    example: shape.example,
  }));
}

/** A field of the query schema each; fields it takes beyond those (`.catchall`) as one free-form parameter. */
function queryParameters(route: Route): Json[] {
  if (!route.query) return [];
  const schema = jsonSchema(route.query) as { type?: unknown; properties?: Record<string, JsonSchema>; required?: string[]; additionalProperties?: JsonSchema | boolean };
  if (schema.type !== 'object') throw new Error(`route ${route.method} ${route.path}: its query schema is not an object`);
  const parameters = Object.entries(schema.properties ?? {}).map(([name, field]) => ({ name, in: 'query', required: schema.required?.includes(name) ?? false, ...described(field), schema: field }));
  const other = schema.additionalProperties;
  if (typeof other !== 'object') return parameters;
  return [...parameters, { name: 'fields', in: 'query', required: false, style: 'form', explode: true, ...described(other), schema: { type: 'object', additionalProperties: other } }];
}

function described(schema: JsonSchema): { description?: string } {
  return typeof schema.description === 'string' ? { description: schema.description } : {};
}

function responses(route: Route): Json {
  const statuses: Record<number, string> = { ...route.answers };
  const add = (status: keyof typeof EDGE) => {
    statuses[status] = statuses[status] ? `${EDGE[status]}; or ${statuses[status]}` : EDGE[status];
  };
  if (route.params || route.query || route.body) add(400);
  if (route.capability !== 'public') {
    add(401);
    add(403);
  }
  if (route.body) {
    add(413);
    add(415);
  }
  add(500);
  const produces = route.produces ?? ['application/json'];
  return Object.fromEntries(
    Object.entries(statuses).map(([status, description]) => [
      status,
      Number(status) < 400 ? { description, headers: CORRELATED, content: Object.fromEntries(produces.map((type) => [type, {}])) } : { ...refusal(description), headers: CORRELATED },
    ]),
  );
}

const CORRELATED = { 'X-Correlation-Id': { $ref: '#/components/headers/CorrelationId' } };

function refusal(description: string): Json {
  return { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
}
