/**
 * The route table: every route names its method, path, and the capability
 * it needs (or says it is public) — a route cannot be declared without one,
 * and the tests build their roles × routes matrix from this table — with
 * what it takes (path ids, query, body) and what it answers, from which the
 * OpenAPI document is made (openapi.ts).
 */
import type { z } from 'zod';
import type { Capability, Principal } from './auth.ts';
import type { ParamShape } from './params.ts';
import { ApiError } from './errors.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Methods whose requests carry a JSON body (every route of them declares its schema). */
export const BODY_METHODS: ReadonlySet<string> = new Set<Method>(['POST', 'PUT']);

export interface ApiRequest<Body = unknown, Query = unknown> {
  method: Method;
  path: string;
  /** `:name` segments of the route's path, decoded. */
  params: Record<string, string>;
  /** The query's fields as the route's `query` schema made them (numbers coerced, defaults filled); as strings when it declares none. */
  query: Query;
  /** The JSON body (POST, PUT) as the route's `body` schema made it; undefined for other methods. */
  body: Body;
  principal: Principal;
  correlationId: string;
  /** The Accept header ('' when absent): a route may answer NDJSON instead of JSON. */
  accept: string;
  /** The Content-Type header ('' when absent). */
  contentType: string;
  /** The Range header ('' when absent): a download may answer part of its bytes. */
  range: string;
  /** The body as it arrives, for a route that declares `upload` (its `body` is then undefined). */
  stream?: AsyncIterable<Uint8Array>;
}

/** A JSON answer: what most routes give. */
export interface JsonResponse {
  status?: number;
  body: unknown;
}

/** Bytes as they are, with their length (an artifact). */
export interface BytesResponse {
  status?: number;
  contentType: string;
  bytes: Uint8Array;
  headers?: Record<string, string>;
}

/**
 * Bytes of a known length, written piece after piece as the client takes
 * them (with a Content-Length, not chunked): a download of any size costs
 * the server one piece.
 */
export interface BytesStreamResponse {
  status?: number;
  contentType: string;
  length: number;
  headers?: Record<string, string>;
  pieces: AsyncIterable<Uint8Array>;
}

/**
 * A 200 whose body is written chunk after chunk (chunked encoding), each
 * chunk taken from `chunks` only once the client took the previous one
 * (http-stream.ts): a body of any size costs the server one chunk.
 */
export interface StreamResponse {
  contentType: string;
  chunks: Iterable<string> | AsyncIterable<string>;
}

export type ApiResponse = JsonResponse | BytesResponse | BytesStreamResponse | StreamResponse;

/**
 * What a route answers, by status, for the docs (openapi.ts): its own
 * successes and refusals. The ones every route of its kind gets from the
 * edge (400 for bad input, 401, 403, 413, 415, 500) are added there.
 */
export type Answers = Readonly<Record<number, string>>;

/**
 * A route. Its schemas are zod, and each does two jobs: it checks the
 * request before the handler runs (validate.ts: the first problem is a 400
 * naming the field) and it describes the request in the OpenAPI document —
 * one schema, so the two cannot differ.
 */
export interface Route<Body extends z.ZodType = z.ZodType, Query extends z.ZodType = z.ZodType> {
  method: Method;
  /** Segments, `:name` for a parameter: `/api/hxo/status/:id`. */
  path: string;
  /** The shape of each `:name` of the path (params.ts), checked before the handler runs. */
  params?: Record<string, ParamShape>;
  capability: Capability | 'public';
  /** What the route does, for the docs and the route listing. */
  summary: string;
  /** The JSON body a POST or PUT takes (every one declares it). */
  body?: Body;
  /** Checks the body against `body` when its refusal is not that 400: a plan's is a 422 naming the field (hxo/plan/plan.ts). */
  checkBody?(raw: unknown): z.output<Body>;
  /**
   * The route reads its body itself, as it arrives (`req.stream`), in these
   * media types: an upload of any size, never held whole. Its `body` schema,
   * if any, only documents the JSON it takes.
   */
  upload?: { consumes: readonly string[] };
  /** The query's fields. */
  query?: Query;
  answers: Answers;
  /** The media types of its 2xx answers, when not JSON alone. */
  produces?: readonly string[];
  handle(req: ApiRequest<z.output<Body>, z.output<Query>>): ApiResponse | Promise<ApiResponse>;
}

/** A route whose handler is typed by its schemas: `req.body` and `req.query` are what they make. */
export function route<Body extends z.ZodType = z.ZodType, Query extends z.ZodType = z.ZodType>(declared: Route<Body, Query>): Route {
  return declared;
}

/** Refuses (403, naming the capability) a principal the route's capability is not given to. */
export function authorize(route: { method: string; path: string; capability: Capability | 'public' }, principal: Principal): void {
  if (route.capability === 'public' || principal.capabilities.has(route.capability)) return;
  throw new ApiError(403, 'forbidden', `${route.method} ${route.path} needs the ${route.capability} capability; role ${principal.role} does not have it`);
}

/** What a table of paths needs of a route: its method, its path (`:name` for an id), the shape of each id. */
export interface PathRoute {
  method: string;
  path: string;
  params?: Record<string, ParamShape>;
}

export type PathMatch<R extends PathRoute> = { route: R; params: Record<string, string> } | { allowed: R['method'][] } | undefined;

/** Routes found by method and path segments: the API's (Router) and the UI's pages (pages.ts). */
export class PathTable<R extends PathRoute> {
  private readonly compiled: { route: R; segments: string[] }[];

  /** `check` finds what else is wrong with a route, at start. */
  constructor(
    readonly routes: readonly R[],
    check: (route: R) => void = () => {},
  ) {
    this.compiled = routes.map((route) => {
      const segments = route.path.split('/').slice(1);
      for (const s of segments) {
        // A bug in the route table, found at start: every id taken from a path is checked (params.ts).
        if (s.startsWith(':') && !route.params?.[s.slice(1)]) throw new Error(`route ${route.method} ${route.path} declares no shape for ${s}`);
      }
      check(route);
      return { route, segments };
    });
  }

  /** The route for a method and (decoded) path segments; `{allowed}` when only the method is wrong. */
  match(method: string, segments: readonly string[]): PathMatch<R> {
    const allowed: R['method'][] = [];
    for (const { route, segments: pattern } of this.compiled) {
      const params = matchSegments(pattern, segments);
      if (!params) continue;
      if (route.method === method) return { route, params };
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }
}

export type Match = PathMatch<Route>;

export class Router extends PathTable<Route> {
  constructor(routes: readonly Route[]) {
    super(routes, (route) => {
      // Found at start too: an undocumented body, or a route whose docs say nothing of how it succeeds.
      if (BODY_METHODS.has(route.method) && !route.body && !route.upload) throw new Error(`route ${route.method} ${route.path} declares no body schema`);
      if (!Object.keys(route.answers).some((status) => status.startsWith('2'))) throw new Error(`route ${route.method} ${route.path} declares no 2xx answer`);
    });
  }
}

/** Path segments, percent-decoded; a malformed escape is the caller's fault (400). */
export function decodePath(raw: string): string[] {
  try {
    return raw.split('/').slice(1).map(decodeURIComponent);
  } catch {
    throw new ApiError(400, 'bad_request', `malformed percent-encoding in path ${raw.slice(0, 200)}`);
  }
}

function matchSegments(pattern: readonly string[], segments: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    const s = segments[i] as string;
    if (p.startsWith(':')) {
      if (s === '') return undefined;
      params[p.slice(1)] = s;
    } else if (p !== s) return undefined;
  }
  return params;
}
