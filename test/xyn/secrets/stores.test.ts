import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRetryable } from '../../../src/core/errors.ts';
import {
  ChainSecretStore,
  EnvSecretStore,
  FileSecretStore,
  nodeSecretStore,
  SecretNotFoundError,
  SecretPathError,
  SecretsFileError,
  SecretsKeyMissingError,
  SecretsKeyWrongError,
  SecretStoreReadOnlyError,
  secretEnvName,
  secretPath,
} from '../../../src/xyn/secrets/index.ts';
import { tempDir } from '../../kernel/helpers.ts';

const HEX_KEY = 'ab'.repeat(32);
const B64_KEY = Buffer.alloc(32, 7).toString('base64');
const VALUE = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOr-the-value';

let dir: ReturnType<typeof tempDir>;
let file: string;
beforeEach(() => {
  dir = tempDir();
  file = join(dir.path, 'secrets.enc');
});
afterEach(() => dir.cleanup());

describe('secret paths', () => {
  it.each(['deploy-key', 'sys/local/providers/openai', 'team/t1/db.password', 'a', 'x'.repeat(256)])('takes %s', (p) => {
    expect(secretPath(p)).toBe(p);
  });

  it.each([
    ['', 'empty'],
    ['Deploy-Key', 'character'],
    ['deploy key', 'character'],
    ['a//b', 'empty segment'],
    ['/abs', 'empty segment'],
    ['a/../b', 'dot'],
    ['..', 'dot'],
    ['a/.hidden', 'dot'],
    ['x'.repeat(257), '257 characters'],
  ])('refuses %j naming the rule', (p, said) => {
    const err = (() => {
      try {
        secretPath(p);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SecretPathError);
    expect((err as SecretPathError).code).toBe('SECRET_PATH');
    expect((err as Error).message).toContain(said);
    expect((err as Error).message).toContain('lowercase letters, digits');
    expect(isRetryable(err)).toBe(false);
  });
});

describe('EnvSecretStore', () => {
  it('reads XYN_SECRET_<PATH upper-cased, non-alphanumerics as _>', async () => {
    expect(secretEnvName('deploy-key')).toBe('XYN_SECRET_DEPLOY_KEY');
    expect(secretEnvName('sys/local/providers/openai')).toBe('XYN_SECRET_SYS_LOCAL_PROVIDERS_OPENAI');
    const store = new EnvSecretStore({ XYN_SECRET_DEPLOY_KEY: VALUE, XYN_SECRET_SYS_LOCAL_PROVIDERS_OPENAI: 'sk-1234' });
    expect(await store.get('deploy-key')).toBe(VALUE);
    expect(await store.get('sys/local/providers/openai')).toBe('sk-1234');
  });

  it('says which variable is not set; an empty one counts as unset', async () => {
    const store = new EnvSecretStore({ XYN_SECRET_EMPTY: '' });
    await expect(store.get('deploy-key')).rejects.toThrow('no secret deploy-key: XYN_SECRET_DEPLOY_KEY not set');
    await expect(store.get('empty')).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it('is read-only and lists nothing', async () => {
    const store = new EnvSecretStore({ XYN_SECRET_A: 'value' });
    await expect(store.put()).rejects.toBeInstanceOf(SecretStoreReadOnlyError);
    await expect(store.delete()).rejects.toBeInstanceOf(SecretStoreReadOnlyError);
    expect(await store.list()).toEqual([]);
  });
});

describe('FileSecretStore', () => {
  it.each([
    ['hex', HEX_KEY],
    ['base64', B64_KEY],
    ['a passphrase', 'correct horse battery staple'],
  ])('round-trips with a %s key; a new store with the same key reads it', async (_form, key) => {
    const store = new FileSecretStore(file, key);
    expect(await store.put('deploy-key', VALUE, { owner: 'ops' })).toEqual({ created: true });
    expect(await store.put('sys/local/providers/openai', 'sk-abcdef')).toEqual({ created: true });
    expect(await store.put('deploy-key', `${VALUE}-2`, { owner: 'ops' })).toEqual({ created: false });
    const again = new FileSecretStore(file, key);
    expect(await again.get('deploy-key')).toBe(`${VALUE}-2`);
    expect(await again.list()).toEqual([
      { path: 'deploy-key', metadata: { owner: 'ops' }, updated_at: expect.any(String) as string },
      { path: 'sys/local/providers/openai', metadata: {}, updated_at: expect.any(String) as string },
    ]);
    expect((await again.list('sys/')).map((e) => e.path)).toEqual(['sys/local/providers/openai']);
    expect(await again.delete('deploy-key')).toBe(true);
    expect(await again.delete('deploy-key')).toBe(false);
    await expect(again.get('deploy-key')).rejects.toThrow(`no secret deploy-key: not in ${file}`);
  });

  it('keeps nothing in plain: not the value, the path nor the metadata; the file is 0600', async () => {
    await new FileSecretStore(file, HEX_KEY).put('deploy-key', VALUE, { owner: 'ops-team' });
    const bytes = readFileSync(file);
    for (const plain of [VALUE, 'deploy-key', 'ops-team', Buffer.from(VALUE).toString('base64')]) expect(bytes.includes(plain)).toBe(false);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(bytes.toString('utf8'))).toMatchObject({ format: 'xyn-secrets/1', kdf: { name: 'none' } });
  });

  it('writes atomically: every change replaces the whole file and leaves no temp file', async () => {
    const store = new FileSecretStore(file, HEX_KEY);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(`key-${i}`, `value-${i}-value`)));
    expect(readdirSync(dir.path)).toEqual(['secrets.enc']);
    expect((await new FileSecretStore(file, HEX_KEY).list()).length).toBe(20);
  });

  it('a write that fails leaves what was there and no temp file', async () => {
    // The file's place is taken by a directory: the rename over it fails.
    mkdirSync(join(file, 'kept'), { recursive: true });
    await expect(new FileSecretStore(file, HEX_KEY).put('a-key', 'some-value')).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(readdirSync(dir.path)).toEqual(['secrets.enc']);
    expect(readdirSync(file)).toEqual(['kept']);
  });

  it('without the key: reads and changes fail saying to set XYN_SECRETS_KEY; no file yet is simply not found', async () => {
    const keyless = new FileSecretStore(file, undefined);
    await expect(keyless.get('deploy-key')).rejects.toBeInstanceOf(SecretNotFoundError);
    expect(await keyless.list()).toEqual([]);
    await expect(keyless.put('deploy-key', VALUE)).rejects.toThrow(/set XYN_SECRETS_KEY/);
    await new FileSecretStore(file, HEX_KEY).put('deploy-key', VALUE);
    for (const attempt of [() => keyless.get('deploy-key'), () => keyless.list(), () => keyless.delete('deploy-key')]) {
      await expect(attempt()).rejects.toBeInstanceOf(SecretsKeyMissingError);
    }
    await expect(new FileSecretStore(file, '').get('deploy-key')).rejects.toThrow(`the secrets in ${file} are encrypted: set XYN_SECRETS_KEY`);
  });

  it.each([
    ['another raw key', HEX_KEY, 'cd'.repeat(32)],
    ['a passphrase for a raw-key file', HEX_KEY, 'some passphrase here'],
    ['another passphrase', 'the first passphrase', 'the second passphrase'],
    ['a raw key for a passphrase file', 'the first passphrase', HEX_KEY],
  ])('a wrong key (%s) fails saying it does not open the file, never garbage', async (_what, right, wrong) => {
    await new FileSecretStore(file, right).put('deploy-key', VALUE);
    const err = await new FileSecretStore(file, wrong).get('deploy-key').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretsKeyWrongError);
    expect((err as SecretsKeyWrongError).code).toBe('SECRETS_KEY_WRONG');
    expect((err as Error).message).toContain(`XYN_SECRETS_KEY does not open ${file}`);
    await expect(new FileSecretStore(file, wrong).put('other', 'value-x')).rejects.toBeInstanceOf(SecretsKeyWrongError);
    expect(await new FileSecretStore(file, right).get('deploy-key')).toBe(VALUE);
  });

  it('an altered file fails on its tag; a file not of its format is named', async () => {
    await new FileSecretStore(file, HEX_KEY).put('deploy-key', VALUE);
    const envelope = JSON.parse(readFileSync(file, 'utf8')) as { ciphertext: string; kdf: unknown };
    const bytes = Buffer.from(envelope.ciphertext, 'base64');
    bytes[0] = (bytes[0] as number) ^ 1;
    writeFileSync(file, JSON.stringify({ ...envelope, ciphertext: bytes.toString('base64') }));
    await expect(new FileSecretStore(file, HEX_KEY).get('deploy-key')).rejects.toBeInstanceOf(SecretsKeyWrongError);
    writeFileSync(file, 'not json');
    await expect(new FileSecretStore(file, HEX_KEY).get('deploy-key')).rejects.toBeInstanceOf(SecretsFileError);
    writeFileSync(file, '{"format":"other"}');
    await expect(new FileSecretStore(file, HEX_KEY).get('deploy-key')).rejects.toThrow('not the xyn-secrets/1 format');
  });

  it('refuses bad paths before touching the file', async () => {
    const store = new FileSecretStore(file, HEX_KEY);
    await expect(store.put('Bad Name', VALUE)).rejects.toBeInstanceOf(SecretPathError);
    await expect(store.get('../etc/passwd')).rejects.toBeInstanceOf(SecretPathError);
    expect(readdirSync(dir.path)).toEqual([]);
  });
});

describe('the chain', () => {
  it('asks the environment first, then the file; changes go to the file', async () => {
    const env = { XYN_SECRET_DEPLOY_KEY: 'from-the-environment' };
    const chain = nodeSecretStore(file, env, HEX_KEY);
    await chain.put('deploy-key', 'from-the-file');
    await chain.put('api-token', 'file-only-token');
    expect(await chain.get('deploy-key')).toBe('from-the-environment');
    expect(await chain.get('api-token')).toBe('file-only-token');
    expect((await chain.list()).map((e) => e.path)).toEqual(['api-token', 'deploy-key']);
    expect(await chain.delete('api-token')).toBe(true);
    expect(await new FileSecretStore(file, HEX_KEY).list()).toHaveLength(1);
  });

  it('a secret found nowhere names every place it looked', async () => {
    const chain = nodeSecretStore(file, {}, HEX_KEY);
    await chain.put('other', 'value-other');
    const err = (await chain.get('deploy-key').catch((e: unknown) => e)) as SecretNotFoundError;
    expect(err).toBeInstanceOf(SecretNotFoundError);
    expect(err.code).toBe('SECRET_NOT_FOUND');
    expect(isRetryable(err)).toBe(false);
    expect(err.message).toBe(`no secret deploy-key: XYN_SECRET_DEPLOY_KEY not set, not in ${file}`);
    expect(err.details).toEqual({ path: 'deploy-key', looked: ['XYN_SECRET_DEPLOY_KEY not set', `not in ${file}`] });
  });

  it('an environment secret is had without the file key', async () => {
    await new FileSecretStore(file, HEX_KEY).put('deploy-key', VALUE);
    const chain = new ChainSecretStore([new EnvSecretStore({ XYN_SECRET_API: 'env-value' }), new FileSecretStore(file, undefined)], new FileSecretStore(file, undefined));
    expect(await chain.get('api')).toBe('env-value');
    await expect(chain.get('deploy-key')).rejects.toBeInstanceOf(SecretsKeyMissingError);
  });
});
