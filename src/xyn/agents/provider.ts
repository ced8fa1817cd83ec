/**
 * What the router asks of a model provider, whatever its SDK: one streamed
 * completion of a conversation, its text assembled, its usage counted — and,
 * when it fails, what kind of failure it was, which decides what comes next
 * (wait out a rate limit, fall back to the other provider, or give up).
 */
export const PROVIDERS = ['openai', 'anthropic'] as const;
export type Provider = (typeof PROVIDERS)[number];

export interface ModelMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ModelRequest {
  model: string;
  system?: string | undefined;
  messages: ModelMessage[];
  max_tokens?: number | undefined;
  temperature?: number | undefined;
}

export interface ModelAnswer {
  text: string;
  /** The model that answered, as the provider names it. */
  model: string;
  finish_reason: string | null;
  usage: { tokens_in: number; tokens_out: number };
}

/** Where and as whom to call a provider: values left out are the SDK's own (its env variables, its defaults). */
export interface ProviderAccess {
  apiKey?: string;
  baseURL?: string;
}

export interface ProviderClient {
  /** Streams one answer; `signal` aborts the HTTP request. Throws a ProviderCallFailure, or the abort. */
  complete(request: ModelRequest, access: ProviderAccess, signal: AbortSignal): Promise<ModelAnswer>;
}

/**
 * How a call failed: `rate_limited` (429; `retryAfterMs` from the answer's
 * headers), `unavailable` (5xx, time-out, no connection: the other provider
 * may answer), `refused` (any other 4xx: the same request is refused again).
 */
export class ProviderCallFailure extends Error {
  constructor(
    readonly kind: 'rate_limited' | 'unavailable' | 'refused',
    message: string,
    readonly status: number | null,
    readonly retryAfterMs: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProviderCallFailure';
  }
}

/** What either SDK's errors carry: an HTTP status (none for a connection that failed) and the answer's headers. */
interface SdkError {
  status?: number | undefined;
  headers?: Headers | undefined;
  message: string;
}

/**
 * An SDK's error as a ProviderCallFailure; an abort by `signal` is given back
 * as it is (the step was cancelled or timed out: nothing to fall back on).
 */
export function callFailure(err: unknown, signal: AbortSignal): unknown {
  if (signal.aborted || !(err instanceof Error)) return err;
  const { status, headers, message } = err as Error & SdkError;
  if (typeof status !== 'number') return new ProviderCallFailure('unavailable', message, null, null, { cause: err });
  if (status === 429) return new ProviderCallFailure('rate_limited', message, status, retryAfterMs(headers), { cause: err });
  if (status >= 500 || status === 408) return new ProviderCallFailure('unavailable', message, status, null, { cause: err });
  return new ProviderCallFailure('refused', message, status, null, { cause: err });
}

/** `retry-after-ms`, else `retry-after` (seconds or an HTTP date), in ms; null when the answer says neither. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | null {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms)) return Math.max(0, ms);
  const raw = headers?.get('retry-after');
  if (!raw) return null;
  const seconds = Number.parseFloat(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
