/**
 * The CLI's client of a running node's API (`--url`, `--token`; or
 * XYN_URL / XYN_TOKEN), over the SDK's calls (sdk/http.ts): a 4xx is the
 * caller's fault (ApiRefusedError, a ValidationError: exit 2), anything
 * else — a 5xx, no node at the URL — is exit 1.
 */
import { ValidationError } from '../core/errors.ts';
import { callNode, openNode, type NodeMethod } from '../sdk/http.ts';

export interface RemoteFlags {
  url?: string;
  token?: string;
}

export function remoteOf(flags: RemoteFlags): { url: string; token: string | undefined } {
  const url = (flags.url ?? process.env.XYN_URL ?? `http://${process.env.XYN_HOST ?? '127.0.0.1'}:${process.env.XYN_PORT ?? '8000'}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+$/.test(url)) throw new ValidationError(`--url must be http(s)://host[:port], got ${url}`, '--url');
  return { url, token: flags.token ?? process.env.XYN_TOKEN };
}

export function callApi<T>(flags: RemoteFlags, method: NodeMethod, path: string, body?: unknown): Promise<T> {
  return callNode<T>(remoteOf(flags), method, path, body);
}

/** A GET whose answer is read as it comes (NDJSON, bytes); a refusal throws as `callApi` does. */
export function openApi(flags: RemoteFlags, path: string, accept: string): Promise<Response> {
  return openNode(remoteOf(flags), path, accept);
}
