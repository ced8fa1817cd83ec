/**
 * Signing in and out. The sign-in page takes a pasted token, checks it as
 * the API checks a bearer token, and keeps it in the session cookie
 * (HttpOnly: no script of the page can read it). With `XYN_AUTH=open` there
 * is nothing to sign in to: the page says so.
 */
import { z } from 'zod';
import { ApiError } from '../../api/errors.ts';
import { page, sessionCookie, type PageContext, type PageRoute } from '../../api/pages.ts';
import { view } from '../render.ts';

/** Where a sign-in may send the browser next: a page of this node, never another site. */
function safeNext(next: string | undefined): string {
  return next && /^\/ui(\/[^/\\]|$)/.test(next) && !next.startsWith('/ui/login') ? next : '/ui/events';
}

const signInForm = z.object({ token: z.string().max(200).default(''), next: z.string().max(2000).optional() });
const signInQuery = z.object({ next: z.string().max(2000).optional(), expired: z.string().optional() });

export function sessionPages(ctx: PageContext, open: boolean): PageRoute[] {
  return [
    page({
      method: 'GET',
      path: '/ui/login',
      capability: 'public',
      summary: 'the sign-in form',
      query: signInQuery,
      handle(req) {
        if (open) return { redirect: safeNext(req.query.next) };
        return view(req, 'login', { next: safeNext(req.query.next), problem: req.query.expired ? 'Your session ended (its token was revoked, or is no longer valid): sign in again.' : '' });
      },
    }),
    page({
      method: 'POST',
      path: '/ui/login',
      capability: 'public',
      summary: 'signs in with a token: sets the session cookie',
      form: signInForm,
      handle(req) {
        const next = safeNext(req.form.next);
        if (open) return { redirect: next };
        const who = ctx.signIn(req.form.token.trim());
        if (who instanceof ApiError) return view(req, 'login', { next, problem: `That token was not accepted: ${who.message}.` }, { status: 401 });
        return { redirect: next, headers: { 'Set-Cookie': sessionCookie(req.form.token.trim()) } };
      },
    }),
    page({
      method: 'POST',
      path: '/ui/logout',
      capability: 'public',
      summary: 'signs out: clears the session cookie',
      form: z.object({}),
      handle: () => ({ redirect: '/ui/login', headers: { 'Set-Cookie': sessionCookie('') } }),
    }),
  ];
}
