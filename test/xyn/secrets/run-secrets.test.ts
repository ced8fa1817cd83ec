import { describe, expect, it } from 'vitest';
import { EnvSecretStore, REDACTED, RunSecrets, SecretNotFoundError, SecretPathError } from '../../../src/xyn/secrets/index.ts';

const TOKEN = 's3cr3t-token-value';
const PASSWORD = 'hunter2-but-longer';

function runSecrets(): RunSecrets {
  return new RunSecrets(new EnvSecretStore({ XYN_SECRET_API_TOKEN: TOKEN, XYN_SECRET_DB_PASSWORD: PASSWORD, XYN_SECRET_PREFIX: `${TOKEN}-and-more`, XYN_SECRET_SHORT: 'abc' }));
}

describe('RunSecrets', () => {
  it('scrubs nothing before anything is resolved, and returns the value it was given', () => {
    const secrets = runSecrets();
    const record = { a: TOKEN };
    expect(secrets.scrub(record)).toBe(record);
  });

  it('resolves through the store and scrubs each resolved value deep in strings, objects and arrays', async () => {
    const secrets = runSecrets();
    expect(await secrets.resolve('api-token')).toBe(TOKEN);
    expect(await secrets.resolve('db/password')).toBe(PASSWORD);
    const record = {
      inputs: { url: `https://x/?t=${TOKEN}`, nested: [{ deep: [`${PASSWORD}!`, 42, null, true] }] },
      error: { code: 'HTTP_STATUS', message: `401 for Bearer ${TOKEN} and ${TOKEN}`, details: { body_excerpt: PASSWORD } },
    };
    expect(secrets.scrub(record)).toEqual({
      inputs: { url: `https://x/?t=${REDACTED}`, nested: [{ deep: [`${REDACTED}!`, 42, null, true] }] },
      error: { code: 'HTTP_STATUS', message: `401 for Bearer ${REDACTED} and ${REDACTED}`, details: { body_excerpt: REDACTED } },
    });
    // The record itself is not changed: the run goes on with what it had.
    expect(record.error.details.body_excerpt).toBe(PASSWORD);
  });

  it('scrubs the longest value first: one that contains another goes whole', async () => {
    const secrets = runSecrets();
    await secrets.resolve('api-token');
    await secrets.resolve('prefix');
    expect(secrets.scrub(`x ${TOKEN}-and-more y ${TOKEN}`)).toBe(`x ${REDACTED} y ${REDACTED}`);
  });

  it('scrubs the base64 form too (HTTP Basic credentials, keys)', async () => {
    const secrets = runSecrets();
    await secrets.resolve('db/password');
    await secrets.resolve('api-token');
    const b64 = Buffer.from(PASSWORD).toString('base64');
    expect(secrets.scrub({ header: `Basic ${b64}` })).toEqual({ header: `Basic ${REDACTED}` });
    // A secret user part of `user:password`, encoded together, is caught by its leading characters.
    const basic = Buffer.from(`${TOKEN}:pw`).toString('base64');
    expect(secrets.scrub(basic)).toMatch(/^\[redacted\]/);
    expect(secrets.scrub(basic)).not.toContain(Buffer.from(TOKEN).toString('base64').slice(0, 20));
  });

  it('does not scrub values shorter than 4 characters (they would wreck every record and protect nothing)', async () => {
    const secrets = runSecrets();
    expect(await secrets.resolve('short')).toBe('abc');
    expect(secrets.scrub('abcdef')).toBe('abcdef');
  });

  it('refuses a bad ref and a missing secret with their own errors', async () => {
    const secrets = runSecrets();
    await expect(secrets.resolve('Bad Ref')).rejects.toBeInstanceOf(SecretPathError);
    await expect(secrets.resolve('Bad Ref')).rejects.toThrow(/^ref: "Bad Ref" is not a secret path/);
    await expect(secrets.resolve('missing')).rejects.toBeInstanceOf(SecretNotFoundError);
  });
});
