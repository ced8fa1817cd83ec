/**
 * `http.call`: one HTTP request with Node's fetch, bounded in time (timeout_ms,
 * and the run's signal) and in memory (the body is read as a stream and the
 * call refused past max_response_bytes: never more than that is held).
 *
 * Idempotency: the plugin says `idempotent: false` — a POST re-run after a
 * restart may charge a card twice, so the safe answer for "any call" is no —
 * and `isIdempotent` (isIdempotentCall) refines it per input: GET, HEAD, PUT,
 * DELETE and OPTIONS are idempotent by HTTP's own definition (RFC 9110 §9.2.2),
 * so the runner may retry or re-run those. One rule in the contract
 * (idempotentFor), not a special case in the runner.
 *
 *   await httpCall.execute({ method: 'GET', url: 'https://x/health', ... }, ctx)
 *   // { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}', json: { ok: true } }
 *
 * Credentials by reference: `auth: { bearer_ref: api-token }` or
 * `auth: { basic: { user: ci, password_ref: ci-password } }` sets the
 * Authorization header from a secret resolved through the run's secrets
 * (ctx.secrets) as the request is made: the recorded input holds only the
 * names, and the run scrubs the values from whatever else it records.
 */
import { z } from 'zod';
import type { Action, ActionContext } from './action.ts';
import { ActionAbortedError, ActionInputError, ActionLimitError, ActionNetworkError, ActionTimeoutError, HttpStatusError, SecretsUnavailableError } from './errors.ts';
import { SECRET_PATH_RULE, secretPathProblem } from '../secrets/index.ts';

const NAME = 'http.call';
const MiB = 1024 * 1024;
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
/** Headers whose values are secrets, in lower case. */
export const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'x-api-key', 'proxy-authorization']);
export const REDACTED = '[redacted]';

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:';
}

const secretRef = z.string().refine((ref) => secretPathProblem(ref) === undefined, `must name a secret: ${SECRET_PATH_RULE}`);

const auth = z
  .strictObject({
    bearer_ref: secretRef.optional(),
    basic: z.strictObject({ user: z.string(), password_ref: secretRef }).optional(),
  })
  .refine((a) => (a.bearer_ref === undefined) !== (a.basic === undefined), 'give one of bearer_ref or basic');

const input = z
  .strictObject({
    method: z.enum(HTTP_METHODS).default('GET'),
    url: z.string().refine(isHttpUrl, 'must be an absolute http:// or https:// URL'),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
    timeout_ms: z.number().int().min(1).max(600_000).default(30_000),
    max_response_bytes: z.number().int().min(0).max(100 * MiB).default(10 * MiB),
    expect_status: z.array(z.number().int().min(100).max(599)).min(1).optional(),
    /** The Authorization header, from a secret. */
    auth: auth.optional(),
  })
  .refine((i) => i.body === undefined || (i.method !== 'GET' && i.method !== 'HEAD'), { path: ['body'], message: 'GET and HEAD requests have no body' })
  .refine((i) => i.auth === undefined || !Object.keys(i.headers ?? {}).some((k) => k.toLowerCase() === 'authorization'), {
    path: ['auth'],
    message: 'auth sets the Authorization header: remove it from headers',
  });

const output = z.object({
  status: z.number().int(),
  headers: z.record(z.string(), z.string()),
  body: z.string(),
  json: z.unknown(),
});

export type HttpCallInput = z.output<typeof input>;
type HttpAuth = NonNullable<HttpCallInput['auth']>;
export type HttpCallOutput = z.output<typeof output>;

/** Whether repeating this request is safe: its method is idempotent by HTTP's definition. */
export function isIdempotentCall(call: Pick<HttpCallInput, 'method'>): boolean {
  return IDEMPOTENT_METHODS.has(call.method);
}

/** The call with its secret header values, and a password in the URL, replaced by '[redacted]'. */
export function redactCall(call: HttpCallInput): HttpCallInput {
  const headers = call.headers && Object.fromEntries(Object.entries(call.headers).map(([k, v]) => [k, SECRET_HEADERS.has(k.toLowerCase()) ? REDACTED : v]));
  const url = new URL(call.url);
  if (url.password) url.password = REDACTED;
  return { ...call, url: url.password ? url.href : call.url, ...(headers ? { headers } : {}) };
}

function requestHeaders(call: HttpCallInput): Headers {
  let headers: Headers;
  try {
    headers = new Headers(call.headers);
  } catch (err) {
    throw new ActionInputError(`${NAME}: headers: ${(err as Error).message}`, 'headers');
  }
  if (call.body !== undefined && typeof call.body !== 'string' && !headers.has('content-type')) headers.set('content-type', 'application/json');
  return headers;
}

/** The Authorization header's value, its secret resolved through the run (which then scrubs it from what it records). */
async function authorization(auth: HttpAuth, ctx: ActionContext): Promise<string> {
  const field = auth.bearer_ref !== undefined ? 'auth.bearer_ref' : 'auth.basic.password_ref';
  if (!ctx.secrets) throw new SecretsUnavailableError(NAME, field);
  if (auth.bearer_ref !== undefined) return `Bearer ${await ctx.secrets.resolve(auth.bearer_ref)}`;
  const basic = auth.basic as NonNullable<HttpAuth['basic']>;
  return `Basic ${Buffer.from(`${basic.user}:${await ctx.secrets.resolve(basic.password_ref)}`, 'utf8').toString('base64')}`;
}

function requestBody(body: unknown): string | undefined {
  return body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
}

/** The response body as text, read chunk by chunk; refused (and the stream cancelled) past `max` bytes. */
async function readBody(res: Response, max: number): Promise<string> {
  const tooLarge = (bytes: number) => new ActionLimitError(`${NAME}: the response body is larger than max_response_bytes (${max}): ${bytes} bytes or more`, 'max_response_bytes', max);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel();
    throw tooLarge(declared);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      throw tooLarge(total);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

function isJson(contentType: string | null): boolean {
  const type = (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** The body parsed when the response says it is JSON; null otherwise, and for an empty or malformed one (`body` keeps the text). */
function parseJson(contentType: string | null, body: string): unknown {
  if (!isJson(contentType) || body === '') return null;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return null;
  }
}

function responseHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  // Headers iterates names in lower case; repeated ones (set-cookie) are joined as HTTP joins them.
  for (const [k, v] of headers) out[k] = k in out ? `${out[k]}, ${v}` : v;
  return out;
}

function accepted(status: number, expect: readonly number[] | undefined): boolean {
  return expect ? expect.includes(status) : status >= 200 && status < 300;
}

async function execute(call: HttpCallInput, ctx: ActionContext): Promise<HttpCallOutput> {
  const headers = requestHeaders(call);
  if (call.auth) headers.set('authorization', await authorization(call.auth, ctx));
  if (ctx.signal.aborted) throw new ActionAbortedError(NAME);
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), call.timeout_ms);
  try {
    const res = await fetch(call.url, {
      method: call.method,
      headers,
      body: requestBody(call.body),
      signal: AbortSignal.any([timeout.signal, ctx.signal]),
      redirect: 'follow',
    });
    const body = await readBody(res, call.max_response_bytes);
    if (!accepted(res.status, call.expect_status)) {
      throw new HttpStatusError(res.status, call.expect_status ? `one of ${call.expect_status.join(', ')}` : 'a 2xx', body.slice(0, 500));
    }
    const contentType = res.headers.get('content-type');
    return { status: res.status, headers: responseHeaders(res.headers), body, json: parseJson(contentType, body) };
  } catch (err) {
    if (ctx.signal.aborted) throw new ActionAbortedError(NAME);
    if (timeout.signal.aborted) throw new ActionTimeoutError(NAME, call.timeout_ms);
    if (err instanceof TypeError) throw new ActionNetworkError(`${NAME}: ${call.method} ${new URL(call.url).origin} failed: ${describeCause(err)}`, { cause: err });
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function describeCause(err: TypeError): string {
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  return typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : err.message;
}

export const httpCall: Action<HttpCallInput, HttpCallOutput> = {
  name: NAME,
  input,
  output,
  idempotent: false,
  isIdempotent: isIdempotentCall,
  redact: redactCall,
  execute,
};
