/**
 * The CLI's client of a running node's API (`--url`, `--token`; or
 * XYN_URL / XYN_TOKEN). An answer in the standard error shape becomes an
 * error naming the server's message: a 4xx is the caller's fault (exit 2),
 * anything else — a 5xx, no node at the URL — is exit 1.
 */
import { ValidationError, XynError } from '../core/errors.ts';

export interface RemoteFlags {
  url?: string;
  token?: string;
}

/** The node answered 4xx. */
export class ApiRefusedError extends ValidationError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`, 'api');
  }
}

export class NodeUnreachableError extends XynError {
  constructor(url: string, reason: string) {
    super(`no answer from a node at ${url}: ${reason}`, 'NODE_UNREACHABLE', { url });
  }
}

export function remoteOf(flags: RemoteFlags): { url: string; token: string | undefined } {
  const url = (flags.url ?? process.env.XYN_URL ?? `http://${process.env.XYN_HOST ?? '127.0.0.1'}:${process.env.XYN_PORT ?? '8000'}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+$/.test(url)) throw new ValidationError(`--url must be http(s)://host[:port], got ${url}`, '--url');
  return { url, token: flags.token ?? process.env.XYN_TOKEN };
}

export async function callApi<T>(flags: RemoteFlags, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await request(flags, method, path, body);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new XynError(`${method} ${path}: ${res.status} with a body that is not JSON`, 'BAD_ANSWER');
  }
  if (res.ok) return parsed as T;
  throw refusal(method, path, res.status, parsed, text);
}

/**
 * A GET whose answer is read as it comes (NDJSON, bytes): the response once
 * it is a 2xx, its body unread; a refusal throws as `callApi` does.
 */
export async function openApi(flags: RemoteFlags, path: string, accept: string): Promise<Response> {
  const res = await request(flags, 'GET', path, undefined, { accept });
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

async function request(flags: RemoteFlags, method: 'GET' | 'POST', path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Response> {
  const { url, token } = remoteOf(flags);
  try {
    return await fetch(url + path, {
      method,
      headers: { ...extra, ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new NodeUnreachableError(url, (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
  }
}

/** An answer in the standard error shape, as the error the CLI exits with. */
function refusal(method: string, path: string, status: number, parsed: unknown, text: string): Error {
  const error = (parsed as { error?: { code?: string; message?: string } }).error ?? {};
  if (status < 500) return new ApiRefusedError(status, error.code ?? 'error', error.message ?? text.slice(0, 200));
  return new XynError(`${method} ${path}: ${status} ${error.code ?? ''}: ${error.message ?? ''}`, 'NODE_ERROR');
}
