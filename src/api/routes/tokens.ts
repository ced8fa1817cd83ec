/**
 * Token management on a running node (`xyn:tokens`, admirals): make, list,
 * revoke. Each change is audited (`hxo.audit`, `token.create` /
 * `token.revoke`); a made token is in the answer once and nowhere else.
 */
import { z } from 'zod';
import type { Bus } from '../../kernel/bus.ts';
import { publishAudit } from '../../kernel/audit.ts';
import { ROLES, type TokenStore } from '../auth.ts';
import { notFound } from '../errors.ts';
import { TOKEN_ID } from '../params.ts';
import { route, type Route } from '../router.ts';
import { UNREAD_BODY } from '../validate.ts';

const createBody = z.strictObject({
  role: z.enum(ROLES),
  principal: z
    .string()
    .regex(/^[A-Za-z0-9_.@-]{1,64}$/, { error: 'expected 1-64 letters, digits, _ . @ -' })
    .optional(),
});

/** `onRevoked` ends what the token still holds open (its streams). */
export function tokenRoutes(tokens: TokenStore, bus: Bus, onRevoked: (tokenId: string) => void): Route[] {
  return [
    route({
      method: 'POST',
      path: '/api/v1/tokens',
      capability: 'xyn:tokens',
      summary: 'make a token {role, principal?}: the token is in this answer only',
      body: createBody,
      answers: { 201: '{token, token_id, principal, role, created_at}: the token is in this answer only' },
      async handle(req) {
        const body = req.body;
        const { token, record } = await tokens.create(body.principal ?? body.role, body.role);
        await publishAudit(bus, { user: req.principal.id, role: req.principal.role, operation: 'token.create', details: { token_id: record.token_id, principal: record.principal, role: record.role } }, { correlation_id: req.correlationId });
        return { status: 201, body: { token, ...record } };
      },
    }),
    {
      method: 'GET',
      path: '/api/v1/tokens',
      capability: 'xyn:tokens',
      summary: 'every token: id, principal, role, made, revoked (never the token)',
      answers: { 200: '{items: [{token_id, principal, role, created_at, revoked_at?}], next_cursor: null}' },
      handle: () => ({ body: { items: tokens.list(), next_cursor: null } }),
    },
    {
      method: 'POST',
      path: '/api/v1/tokens/:id/revoke',
      params: { id: TOKEN_ID },
      capability: 'xyn:tokens',
      summary: 'revoke a token at once',
      body: UNREAD_BODY,
      answers: { 200: 'the revoked token record (revoked_at set)', 404: 'no live token with that id' },
      async handle(req) {
        const revoked = await tokens.revoke(req.params.id as string);
        if (!revoked) throw notFound(`no live token with id ${(req.params.id as string).slice(0, 64)}`);
        onRevoked(revoked.token_id);
        await publishAudit(bus, { user: req.principal.id, role: req.principal.role, operation: 'token.revoke', details: { token_id: revoked.token_id, principal: revoked.principal, role: revoked.role } }, { correlation_id: req.correlationId });
        return { body: revoked };
      },
    },
  ];
}
