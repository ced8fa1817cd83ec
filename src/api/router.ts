/**
 * The route table: every route names its method, path, and the capability
 * it needs (or says it is public) — a route cannot be declared without one,
 * and the tests build their roles × routes matrix from this table.
 */
import type { Capability, Principal } from './auth.ts';
import type { ParamShape } from './params.ts';

export type Method = 'GET' | 'POST' | 'DELETE';

export interface ApiRequest {
  method: Method;
  path: string;
  /** `:name` segments of the route's path, decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body (POST), else undefined. */
  body: unknown;
  principal: Principal;
  correlationId: string;
  /** The Accept header ('' when absent): a route may answer NDJSON instead of JSON. */
  accept: string;
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

export type ApiResponse = JsonResponse | BytesResponse | StreamResponse;

export interface Route {
  method: Method;
  /** Segments, `:name` for a parameter: `/api/hxo/status/:id`. */
  path: string;
  /** The shape of each `:name` of the path (params.ts), checked before the handler runs. */
  params?: Record<string, ParamShape>;
  capability: Capability | 'public';
  /** What the route does, for the docs and the route listing. */
  summary: string;
  handle(req: ApiRequest): ApiResponse | Promise<ApiResponse>;
}

export type Match = { route: Route; params: Record<string, string> } | { allowed: Method[] } | undefined;

export class Router {
  private readonly compiled: { route: Route; segments: string[] }[];

  constructor(readonly routes: readonly Route[]) {
    this.compiled = routes.map((route) => {
      const segments = route.path.split('/').slice(1);
      for (const s of segments) {
        // A bug in the route table, found at start: every id taken from a path is checked (params.ts).
        if (s.startsWith(':') && !route.params?.[s.slice(1)]) throw new Error(`route ${route.method} ${route.path} declares no shape for ${s}`);
      }
      return { route, segments };
    });
  }

  /** The route for a method and (decoded) path segments; `{allowed}` when only the method is wrong. */
  match(method: string, segments: readonly string[]): Match {
    const allowed: Method[] = [];
    for (const { route, segments: pattern } of this.compiled) {
      const params = matchSegments(pattern, segments);
      if (!params) continue;
      if (route.method === method) return { route, params };
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { allowed } : undefined;
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
