/**
 * Pages for a browser (the UI, src/ui/): routes that answer HTML on the API's
 * port, signed in by a cookie instead of a bearer header, and taking HTML
 * forms instead of JSON.
 *
 * - Signing in: the sign-in page takes a token (pasted), checks it as the
 *   API would, and keeps it in an HttpOnly, SameSite=Strict cookie. A page
 *   asked for without one is redirected to the sign-in page; with
 *   `XYN_AUTH=open` (loopback only) everyone is admiral and nobody signs in.
 * - Cross-site posts: every POST must carry the session's CSRF token (a form's
 *   `_csrf` field, or htmx's `X-CSRF-Token` header), an HMAC of the session
 *   under a secret of this server's, and must not come from another site
 *   (`Sec-Fetch-Site`, `Origin`). The cookie's SameSite=Strict is the first
 *   wall; these are the second, which also holds with `XYN_AUTH=open`, where
 *   there is no cookie at all.
 * - One service layer: what a page shows and does goes through the API's own
 *   routes, in process (`InProcessApi`), with the page's principal — the same
 *   checks, the same capability, the same audit. A page holds no second copy
 *   of the logic, and a viewer who posts an approve gets the API's 403.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import { ANONYMOUS, type Capability, type Principal } from './auth.ts';
import { ApiError, toApiError } from './errors.ts';
import { checkParams, type ParamShape } from './params.ts';
import type { ApiResponse, JsonResponse, Method, Router } from './router.ts';
import { PathTable, authorize, decodePath } from './router.ts';
import { parseInput, routeInput } from './validate.ts';

export type PageMethod = 'GET' | 'POST';

/** The cookie a signed-in browser holds: its bearer token. */
export const SESSION_COOKIE = 'xyn_session';
/** Where pages live: `/`, `/ui` and everything under `/ui/`. */
export const UI_PREFIX = '/ui';
export const SIGN_IN_PATH = '/ui/login';
const FORM_TYPE = 'application/x-www-form-urlencoded';
const SESSION_MAX_AGE_S = 7 * 24 * 3600;

export interface PageRequest<Form = unknown, Query = unknown> {
  method: PageMethod;
  /** The path as asked, and with its query, for links back to it. */
  path: string;
  url: string;
  params: Record<string, string>;
  query: Query;
  /** The form's fields as the page's `form` schema made them (POST). */
  form: Form;
  principal: Principal;
  correlationId: string;
  /** htmx asked (HX-Request): answer the fragment, not the whole page. */
  htmx: boolean;
  /** The session's CSRF token: every form carries it (`_csrf`). */
  csrf: string;
  range: string;
  /** The API's routes, in process, as this principal. */
  api: InProcessApi;
}

export interface HtmlResponse {
  status?: number;
  html: string;
  headers?: Record<string, string>;
}

/** 303 See Other: after a form's POST, the browser GETs `location`. */
export interface RedirectResponse {
  redirect: string;
  headers?: Record<string, string>;
}

export type PageResponse = HtmlResponse | RedirectResponse | ApiResponse;

export interface PageRoute<Form extends z.ZodType = z.ZodType, Query extends z.ZodType = z.ZodType> {
  method: PageMethod;
  /** Segments, `:name` for a parameter, as the API's routes. */
  path: string;
  params?: Record<string, ParamShape>;
  /** What it needs, as an API route; `public` for the sign-in page and the files every page loads. */
  capability: Capability | 'public';
  summary: string;
  form?: Form;
  query?: Query;
  handle(req: PageRequest<z.output<Form>, z.output<Query>>): PageResponse | Promise<PageResponse>;
}

export function page<Form extends z.ZodType = z.ZodType, Query extends z.ZodType = z.ZodType>(declared: PageRoute<Form, Query>): PageRoute {
  return declared as unknown as PageRoute;
}

/** The pages of a UI, and how it shows an error (a whole page, or a fragment for htmx). */
export interface PageSet {
  routes: readonly PageRoute[];
  errorPage(err: ApiError, req: { path: string; htmx: boolean; principal: Principal | undefined; csrf: string }): string;
}

/** What the page server is given to build its pages from. */
export interface PageContext {
  api: InProcessApi;
  /** The principal of a token, as the API checks a bearer token; an ApiError (401) when it is not valid. */
  signIn(token: string): Principal | ApiError;
}

/** What http.ts reads off a request for a page, before anything async. */
export interface BrowserRequest {
  method: string;
  rawPath: string;
  query: string;
  cookie: string;
  host: string;
  origin: string;
  fetchSite: string;
  htmx: boolean;
  csrfHeader: string;
  contentType: string;
  contentLength: string;
  range: string;
  correlationId: string;
}

/** The part of http.ts's reply a page uses. */
export interface PageReply {
  header(name: string, value: string): void;
  readBody(limit: number): Promise<Buffer>;
  send(result: ApiResponse): Promise<void>;
}

/** Does this path belong to the pages (rather than the API)? */
export function isPagePath(rawPath: string): boolean {
  return rawPath === '/' || rawPath === UI_PREFIX || rawPath.startsWith(`${UI_PREFIX}/`);
}

/** The session cookie's value in a Cookie header ('' when absent). */
export function sessionToken(cookieHeader: string): string {
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return '';
}

/** The Set-Cookie of a session (signing in) or of its end (`token` ''). */
export function sessionCookie(token: string): string {
  const base = `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
  return token === '' ? `${base}; Max-Age=0` : `${base}; Max-Age=${SESSION_MAX_AGE_S}`;
}

/** Is a cookie-borne request from this node's own pages? False when the browser says another site sent it. */
export function sameOrigin(origin: string, host: string, fetchSite = ''): boolean {
  if (fetchSite !== '' && fetchSite !== 'same-origin') return false;
  if (origin === '') return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

export class PageServer {
  private readonly secret = randomBytes(32);
  private readonly table: PathTable<PageRoute>;

  constructor(
    private readonly pages: PageSet,
    private readonly ctx: PageContext & { open: boolean; maxBodyBytes: number },
  ) {
    this.table = new PathTable(pages.routes);
  }

  /** The CSRF token of a session (its bearer token; '' when none: signing in, or XYN_AUTH=open). */
  csrfOf(token: string): string {
    return createHmac('sha256', this.secret).update(`csrf\0${token}`).digest('base64url');
  }

  async handle(reply: PageReply, incoming: BrowserRequest): Promise<void> {
    const htmx = incoming.htmx;
    let principal: Principal | undefined;
    let csrf = this.csrfOf('');
    try {
      if (incoming.rawPath === '/' || incoming.rawPath === UI_PREFIX) return await reply.send(redirect('/ui/events'));
      const segments = decodePath(incoming.rawPath);
      const found = this.table.match(incoming.method === 'HEAD' ? 'GET' : incoming.method, segments);
      if (!found) throw new ApiError(404, 'not_found', `no page ${incoming.rawPath}`);
      if ('allowed' in found) {
        reply.header('Allow', found.allowed.join(', '));
        throw new ApiError(405, 'method_not_allowed', `${incoming.rawPath} takes ${found.allowed.join(', ')}, not ${incoming.method}`);
      }
      const { route, params } = found;
      const token = sessionToken(incoming.cookie);
      const who = this.ctx.open ? this.ctx.signIn('') : token === '' ? undefined : this.ctx.signIn(token);
      if (who !== undefined && !(who instanceof ApiError)) {
        principal = who;
        csrf = this.csrfOf(this.ctx.open ? '' : token);
      }
      if (route.capability !== 'public') {
        if (!principal) return await this.toSignIn(reply, incoming, token !== '');
        authorize(route, principal);
      }
      if (route.params) checkParams(params, route.params);
      let form: unknown;
      if (route.method === 'POST') {
        const fields = await this.readForm(reply, incoming);
        this.checkPost(incoming, csrf, fields);
        form = fields;
      }
      const query = new URLSearchParams(incoming.query);
      const input = { query: route.query ? parseInput(route.query, Object.fromEntries(query), 'query') : Object.fromEntries(query), form: route.form ? parseInput(route.form, form) : form };
      const result = await route.handle({
        method: route.method,
        path: incoming.rawPath,
        url: incoming.query === '' ? incoming.rawPath : `${incoming.rawPath}?${incoming.query}`,
        params,
        ...input,
        principal: principal ?? ANONYMOUS,
        correlationId: incoming.correlationId,
        htmx,
        csrf,
        range: incoming.range,
        api: this.ctx.api.as(principal ?? ANONYMOUS, incoming.correlationId),
      });
      await reply.send(toApiResponse(result, htmx));
    } catch (err) {
      const api = toApiError(err);
      const html = this.pages.errorPage(api, { path: incoming.rawPath, htmx, principal, csrf });
      await reply.send({ status: api.status, contentType: HTML, bytes: Buffer.from(html), headers: PAGE_HEADERS });
    }
  }

  private async readForm(reply: PageReply, incoming: BrowserRequest): Promise<Record<string, string>> {
    const type = incoming.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
    const declared = incoming.contentLength === '' ? 0 : Number(incoming.contentLength);
    if (declared > this.ctx.maxBodyBytes) throw new ApiError(413, 'payload_too_large', `the form is ${declared} bytes; the limit is ${this.ctx.maxBodyBytes}`);
    const bytes = await reply.readBody(this.ctx.maxBodyBytes);
    if (bytes.length > 0 && type !== FORM_TYPE) throw new ApiError(415, 'unsupported_media_type', `a page takes forms (${FORM_TYPE}), got ${type || 'no Content-Type'}`);
    const form: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(bytes.toString('utf8'))) form[k] = v;
    return form;
  }

  /** A POST from this node's own page, carrying its session's token; a 403 naming what is wrong otherwise. */
  private checkPost(incoming: BrowserRequest, csrf: string, form: Record<string, string>): void {
    if (!sameOrigin(incoming.origin, incoming.host, incoming.fetchSite)) {
      throw new ApiError(403, 'cross_site', `a form posted from another site (${incoming.origin || incoming.fetchSite}) is refused: post from this node's own pages`);
    }
    const given = form._csrf ?? incoming.csrfHeader;
    delete form._csrf;
    if (!given || !equalTokens(given, csrf)) {
      throw new ApiError(403, 'csrf', 'the form is missing its CSRF token or carries a stale one (the node restarted, or you signed in again): reload the page and send it again');
    }
  }

  private async toSignIn(reply: PageReply, incoming: BrowserRequest, hadCookie: boolean): Promise<void> {
    const next = incoming.method === 'GET' && !incoming.htmx ? incoming.rawPath + (incoming.query ? `?${incoming.query}` : '') : '/ui/events';
    const location = `${SIGN_IN_PATH}?next=${encodeURIComponent(next)}${hadCookie ? '&expired=1' : ''}`;
    if (hadCookie) reply.header('Set-Cookie', sessionCookie(''));
    // htmx follows HX-Redirect with a full page load; a plain browser follows the 303.
    if (incoming.htmx) reply.header('HX-Redirect', location);
    // A form posted without a session is refused, not redirected: what it asked is not done, and its unread body ends the connection (a 4xx).
    if (incoming.method !== 'GET') throw new ApiError(401, 'unauthorized', `you are not signed in (or your session ended): sign in at ${SIGN_IN_PATH} and send the form again`);
    await reply.send(redirect(location));
  }
}

const HTML = 'text/html; charset=utf-8';

/**
 * Every page's headers. The policy lets a page run only the node's own
 * scripts (no inline script, no eval: a value that slipped past escaping
 * still cannot run), talk only to the node, and not be framed by another
 * site. Styles may be inline: htmx and uPlot set them.
 */
const PAGE_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/** 303 See Other to `location`, with what the page adds. */
function redirect(location: string, headers: Record<string, string> = {}): ApiResponse {
  return { status: 303, contentType: HTML, bytes: Buffer.alloc(0), headers: { Location: location, 'Cache-Control': 'no-store', ...headers } };
}

function toApiResponse(result: PageResponse, htmx: boolean): ApiResponse {
  if ('html' in result) return { status: result.status ?? 200, contentType: HTML, bytes: Buffer.from(result.html), headers: { ...PAGE_HEADERS, ...result.headers } };
  // htmx swaps the answer of a POST in place; told HX-Location, it loads the page instead.
  if ('redirect' in result) return htmx ? { status: 200, contentType: HTML, bytes: Buffer.alloc(0), headers: { 'HX-Location': result.redirect, ...result.headers } } : redirect(result.redirect, result.headers);
  return result;
}

function equalTokens(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The API's routes called in process: the route the method and path name,
 * its capability checked against the principal, its path ids, query and
 * body checked by its own schemas, its handler run. What a page shows and
 * does is exactly what the API would answer this principal.
 */
export class InProcessApi {
  constructor(
    private readonly router: Router,
    private readonly principal?: Principal,
    private readonly correlationId = '',
  ) {}

  /** The same API, called as `principal`. */
  as(principal: Principal, correlationId: string): InProcessApi {
    return new InProcessApi(this.router, principal, correlationId);
  }

  /** The route's answer; its refusal thrown as the ApiError the API would answer. */
  async call(method: Method, path: string, input: { query?: Record<string, string | number | undefined>; body?: unknown; range?: string } = {}): Promise<ApiResponse> {
    const principal = this.principal;
    if (!principal) throw new Error('InProcessApi.call needs a principal: use .as(principal, correlationId)');
    const segments = decodePath(path);
    const match = this.router.match(method, segments);
    if (!match || 'allowed' in match) throw new ApiError(404, 'not_found', `no route ${method} ${path}`);
    const { route, params } = match;
    if (route.capability !== 'public') authorize(route, principal);
    if (route.params) checkParams(params, route.params);
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(input.query ?? {})) if (v !== undefined && v !== '') query.set(k, String(v));
    const checked = routeInput(route, query, input.body);
    return route.handle({ method, path, params, ...checked, principal, correlationId: this.correlationId, accept: 'application/json', contentType: 'application/json', range: input.range ?? '' });
  }

  /** A JSON route's body. */
  async json<T>(method: Method, path: string, input: { query?: Record<string, string | number | undefined>; body?: unknown } = {}): Promise<T> {
    const answer = await this.call(method, path, input);
    if (!('body' in answer)) throw new Error(`${method} ${path} answered bytes, not JSON`);
    return (answer as JsonResponse).body as T;
  }
}
