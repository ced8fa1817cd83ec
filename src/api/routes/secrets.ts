/**
 * The node's secrets over HTTP (admirals: `xyn:secrets:write` to set and
 * remove, `xyn:secrets:read` to list): names and metadata in, names and
 * metadata out — a value goes in with a PUT and never comes back out (runs
 * resolve them on the node). Each change is audited (`hxo.audit`,
 * `secret.put` / `secret.delete`) with the path, never the value; the
 * request log has method and path only, never a body.
 *
 * A path's slashes are sent percent-encoded, as one segment:
 * `PUT /api/v1/secrets/sys%2Flocal%2Fproviders%2Fopenai`.
 */
import { z } from 'zod';
import type { Bus } from '../../kernel/bus.ts';
import { publishAudit } from '../../kernel/audit.ts';
import { SECRET_PATH_MAX, SECRET_PATH_PATTERN, SECRET_PATH_RULE, type SecretStore } from '../../xyn/secrets/index.ts';
import { notFound } from '../errors.ts';
import type { ParamShape } from '../params.ts';
import { route, type ApiRequest, type Route } from '../router.ts';

/** Values past this are refused: a secret is a key or a password, not a file. */
const MAX_VALUE_CHARS = 64 * 1024;

const SECRET_PATH: ParamShape = {
  pattern: new RegExp(`^(?=.{1,${SECRET_PATH_MAX}}$)${SECRET_PATH_PATTERN.source.slice(1)}`),
  expected: `a secret path, its slashes percent-encoded (%2F): ${SECRET_PATH_RULE}`,
  example: 'sys/local/providers/openai',
};

const putBody = z.strictObject({
  value: z.string().min(1).max(MAX_VALUE_CHARS),
  metadata: z.record(z.string().max(64), z.string().max(1024)).optional().describe('what may be said of it (owner, purpose): never a value'),
});

const listQuery = z.strictObject({
  prefix: z
    .string()
    .max(SECRET_PATH_MAX)
    .regex(/^[a-z0-9_./-]*$/, { error: 'a path prefix: lowercase letters, digits and - _ . /' })
    .optional(),
});

function audit(bus: Bus, req: ApiRequest, operation: string, details: Record<string, unknown>): Promise<unknown> {
  return publishAudit(bus, { user: req.principal.id, role: req.principal.role, operation, details }, { correlation_id: req.correlationId });
}

export function secretRoutes(secrets: SecretStore, bus: Bus): Route[] {
  return [
    route({
      method: 'PUT',
      path: '/api/v1/secrets/:path',
      params: { path: SECRET_PATH },
      capability: 'xyn:secrets:write',
      summary: 'set a secret {value, metadata?} in the encrypted file: the value is never answered, listed or logged',
      body: putBody,
      answers: { 200: '{path, created: false}: replaced', 201: '{path, created: true}: made', 503: 'the node cannot open its secrets file (XYN_SECRETS_KEY unset, or not the key it was written with)' },
      async handle(req) {
        const path = req.params.path as string;
        const { created } = await secrets.put(path, req.body.value, req.body.metadata ?? {});
        await audit(bus, req, 'secret.put', { path, created });
        return { status: created ? 201 : 200, body: { path, created } };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/secrets',
      capability: 'xyn:secrets:read',
      summary: 'the secrets whose path starts with ?prefix=: paths and metadata, never values (the environment\'s XYN_SECRET_* are not listed)',
      query: listQuery,
      answers: { 200: '{items: [{path, metadata, updated_at}], next_cursor: null}', 503: 'the node cannot open its secrets file' },
      async handle(req) {
        return { body: { items: await secrets.list(req.query.prefix ?? ''), next_cursor: null } };
      },
    }),
    {
      method: 'DELETE',
      path: '/api/v1/secrets/:path',
      params: { path: SECRET_PATH },
      capability: 'xyn:secrets:write',
      summary: 'remove a secret from the encrypted file',
      answers: { 200: '{path, deleted: true}', 404: 'the file holds no secret by that path', 503: 'the node cannot open its secrets file' },
      async handle(req) {
        const path = req.params.path as string;
        if (!(await secrets.delete(path))) throw notFound(`no secret ${path} in the secrets file (the environment's XYN_SECRET_* are not removed over the API)`);
        await audit(bus, req, 'secret.delete', { path });
        return { body: { path, deleted: true } };
      },
    },
  ];
}
