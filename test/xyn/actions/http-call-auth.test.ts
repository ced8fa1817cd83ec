/** http.call's `auth`: the Authorization header from a secret resolved through the run, never in the recorded input. */
import { afterEach, describe, expect, it } from 'vitest';
import { httpCall, parseActionInput, redactedInput, SecretsUnavailableError } from '../../../src/xyn/actions/index.ts';
import { EnvSecretStore, RunSecrets, SecretNotFoundError } from '../../../src/xyn/secrets/index.ts';
import { busOnLogPerTest } from '../../kernel/helpers.ts';
import { actionContext, refusedField, serve, type TestServer } from './helpers.ts';

const t = busOnLogPerTest();
const TOKEN = 'tok-0123456789abcdef';
const PASSWORD = 'pw-fedcba9876543210';
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A server answering with the Authorization header it got. */
async function echoAuthorization(): Promise<TestServer> {
  return serve((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ seen: req.headers.authorization ?? null })));
}

function withSecrets(): { ctx: ReturnType<typeof actionContext>; secrets: RunSecrets } {
  const secrets = new RunSecrets(new EnvSecretStore({ XYN_SECRET_API_TOKEN: TOKEN, XYN_SECRET_CI_PASSWORD: PASSWORD }));
  return { ctx: { ...actionContext(t.bus), secrets }, secrets };
}

describe('http.call auth', () => {
  it('sends a bearer token resolved from its ref; the recorded input holds only the ref; the run may scrub the value after', async () => {
    server = await echoAuthorization();
    const { ctx, secrets } = withSecrets();
    const input = parseActionInput(httpCall, { url: server.url, auth: { bearer_ref: 'api-token' } });
    const out = await httpCall.execute(input, ctx);
    expect(out.json).toEqual({ seen: `Bearer ${TOKEN}` });
    expect(JSON.stringify(redactedInput(httpCall, input))).not.toContain(TOKEN);
    expect(JSON.stringify(secrets.scrub(out))).not.toContain(TOKEN);
  });

  it('sends Basic user:password with the password from its ref', async () => {
    server = await echoAuthorization();
    const { ctx, secrets } = withSecrets();
    const out = await httpCall.execute(parseActionInput(httpCall, { url: server.url, auth: { basic: { user: 'ci', password_ref: 'ci-password' } } }), ctx);
    expect(out.json).toEqual({ seen: `Basic ${Buffer.from(`ci:${PASSWORD}`).toString('base64')}` });
    expect(secrets.scrub(`pw ${PASSWORD} b64 ${Buffer.from(PASSWORD).toString('base64')}`)).toBe('pw [redacted] b64 [redacted]');
  });

  it('refuses an auth it cannot use, naming the field', () => {
    const url = 'http://127.0.0.1:1/';
    expect(refusedField(httpCall, { url, auth: { bearer_ref: 'Not A Path' } })).toBe('auth.bearer_ref');
    expect(refusedField(httpCall, { url, auth: {} })).toBe('auth');
    expect(refusedField(httpCall, { url, auth: { bearer_ref: 'a-token', basic: { user: 'u', password_ref: 'p-word' } } })).toBe('auth');
    expect(refusedField(httpCall, { url, auth: { bearer_ref: 'a-token' }, headers: { Authorization: 'Bearer x' } })).toBe('auth');
    expect(refusedField(httpCall, { url, auth: { basic: { user: 'u' } } })).toBe('auth.basic.password_ref');
  });

  it('fails without making the request when the secret is missing or the run has no secrets', async () => {
    let requests = 0;
    server = await serve((_req, res) => {
      requests++;
      res.end('{}');
    });
    const input = parseActionInput(httpCall, { url: server.url, auth: { bearer_ref: 'missing-token' } });
    await expect(httpCall.execute(input, withSecrets().ctx)).rejects.toThrow('no secret missing-token: XYN_SECRET_MISSING_TOKEN not set');
    await expect(httpCall.execute(input, withSecrets().ctx)).rejects.toBeInstanceOf(SecretNotFoundError);
    const err = await httpCall.execute(input, actionContext(t.bus)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretsUnavailableError);
    expect((err as SecretsUnavailableError).code).toBe('SECRETS_UNAVAILABLE');
    expect(requests).toBe(0);
  });
});
