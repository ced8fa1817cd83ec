/**
 * The CLI's client of a running node's API (`--url`, `--token`; or
 * XYN_URL / XYN_TOKEN). An answer in the standard error shape becomes an
 * error naming the server's message: a 4xx is the caller's fault (exit 2),
 * anything else — a 5xx, no node at the URL — is exit 1.
 */
import { ValidationError, XynError } from '../kernel/errors.ts';

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
  const { url, token } = remoteOf(flags);
  let res: Response;
  try {
    res = await fetch(url + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new NodeUnreachableError(url, (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new XynError(`${method} ${path}: ${res.status} with a body that is not JSON`, 'BAD_ANSWER');
  }
  if (res.ok) return parsed as T;
  const error = (parsed as { error?: { code?: string; message?: string } }).error ?? {};
  if (res.status < 500) throw new ApiRefusedError(res.status, error.code ?? 'error', error.message ?? text.slice(0, 200));
  throw new XynError(`${method} ${path}: ${res.status} ${error.code ?? ''}: ${error.message ?? ''}`, 'NODE_ERROR');
}
