/**
 * Calls to a node's HTTP API, for the client (client.ts) and the CLI: an
 * answer in the API's error shape becomes an error that names the node's
 * code and message — ApiRefusedError for a 4xx (the caller's fault),
 * NodeError for a 5xx — and no answer at all is NodeUnreachableError.
 */
import { ValidationError, XynError } from '../core/errors.ts';

export interface NodeAddress {
  /** `http(s)://host[:port]`. */
  url: string;
  token?: string | undefined;
}

/** The node answered 4xx: `status`, its `code` (`not_found`, `invalid_plan`, ...) and message. */
export class ApiRefusedError extends ValidationError {
  constructor(
    readonly status: number,
    readonly apiCode: string,
    message: string,
  ) {
    super(`${status} ${apiCode}: ${message}`, 'api');
  }
}

/** The node answered 5xx (storage full, a bug): not the caller's fault. */
export class NodeError extends XynError {
  constructor(message: string, readonly status: number, readonly apiCode: string) {
    super(message, 'NODE_ERROR', { status, api_code: apiCode });
  }
}

export class NodeUnreachableError extends XynError {
  constructor(url: string, reason: string) {
    super(`no answer from a node at ${url}: ${reason}`, 'NODE_UNREACHABLE', { url });
  }
}

/** The methods of the node's API. */
export type NodeMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** A JSON call: the parsed answer of a 2xx, or the error its refusal says. */
export async function callNode<T>(node: NodeAddress, method: NodeMethod, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  return answerOf<T>(method, path, await request(node, method, path, body, headers));
}

/** A JSON answer: parsed when it is a 2xx, else the error its refusal says. */
async function answerOf<T>(method: string, path: string, res: Response): Promise<T> {
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new NodeError(`${method} ${path}: ${res.status} with a body that is not JSON`, res.status, 'bad_answer');
  }
  if (res.ok) return parsed as T;
  throw refusal(method, path, res.status, parsed, text);
}

/** `path?k=v&…` with the query's defined fields (a list's filters and page), or `path` when there are none. */
export function withQuery(path: string, query: object): string {
  const qs = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]): [string, string] => [k, String(v)])).toString();
  return qs ? `${path}?${qs}` : path;
}

/** A GET whose answer is read as it comes (NDJSON, bytes): the response once it is a 2xx, its body unread. */
export async function openNode(node: NodeAddress, path: string, accept: string, headers: Record<string, string> = {}): Promise<Response> {
  const res = await request(node, 'GET', path, undefined, { ...headers, accept });
  if (res.ok) return res;
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = {};
  }
  throw refusal('GET', path, res.status, parsed, text);
}

/** Bytes sent as they come (an upload: never held whole), the JSON answer of a 2xx, or the error its refusal says. Never sent twice. */
export async function sendBytes<T>(node: NodeAddress, method: 'POST' | 'PUT', path: string, body: string | Uint8Array | AsyncIterable<Uint8Array>, contentType: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(node.url + path, {
      method,
      headers: { 'content-type': contentType, ...(node.token ? { authorization: `Bearer ${node.token}` } : {}) },
      // A stream goes chunked (fetch's half duplex): only strings and bytes have a known length.
      ...(typeof body === 'string' || body instanceof Uint8Array ? { body } : { body: ReadableStream.from(body), duplex: 'half' }),
    } as RequestInit);
  } catch (err) {
    throw new NodeUnreachableError(node.url, (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
  }
  return answerOf<T>(method, path, res);
}

/** Socket errors of a kept-alive connection the node closed as it was reused: the request never reached it. */
const STALE_CONNECTION = new Set(['UND_ERR_SOCKET', 'ECONNRESET']);

/**
 * One call; a GET that finds its pooled connection closed under it (the
 * node closes idle connections, and a reuse can cross that close) is sent
 * once more on a new one — a GET changes nothing, so twice is safe. Any
 * other method is never sent twice.
 */
async function request(node: NodeAddress, method: NodeMethod, path: string, body: unknown, extra: Record<string, string>): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(node.url + path, {
        method,
        headers: { ...extra, ...(node.token ? { authorization: `Bearer ${node.token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code;
      if (method === 'GET' && attempt === 1 && code !== undefined && STALE_CONNECTION.has(code)) continue;
      throw new NodeUnreachableError(node.url, code ?? (err as Error).message);
    }
  }
}

/** An answer in the API's error shape, as the error it means. */
function refusal(method: string, path: string, status: number, parsed: unknown, text: string): Error {
  const error = (parsed as { error?: { code?: string; message?: string } }).error ?? {};
  if (status < 500) return new ApiRefusedError(status, error.code ?? 'error', error.message ?? text.slice(0, 200));
  return new NodeError(`${method} ${path}: ${status} ${error.code ?? ''}: ${error.message ?? ''}`, status, error.code ?? '');
}
