/**
 * Secrets from the environment (seed 004 §26.1, v0's stance): `deploy-key`
 * is `XYN_SECRET_DEPLOY_KEY` — the path upper-cased, every character that
 * is not a letter or digit an underscore. Read-only: what the environment
 * says is set outside xyn. Not listed either: a variable's name does not
 * say which path it stands for (`deploy-key` and `deploy_key` share one).
 *
 *   new EnvSecretStore(process.env).get('deploy-key')   // XYN_SECRET_DEPLOY_KEY's value
 */
import { SecretNotFoundError, SecretStoreReadOnlyError } from './errors.ts';
import { secretPath } from './paths.ts';
import type { SecretEntry, SecretStore } from './store.ts';

export const SECRET_ENV_PREFIX = 'XYN_SECRET_';

/** The environment variable a secret path is read from. */
export function secretEnvName(path: string): string {
  return SECRET_ENV_PREFIX + secretPath(path).toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

export class EnvSecretStore implements SecretStore {
  readonly name = `the environment (${SECRET_ENV_PREFIX}*)`;

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  get(path: string): Promise<string> {
    const variable = secretEnvName(path);
    const value = this.env[variable];
    // An empty variable is an unset one, as the config reads them.
    if (value === undefined || value === '') return Promise.reject(new SecretNotFoundError(path, [`${variable} not set`]));
    return Promise.resolve(value);
  }

  put(): Promise<{ created: boolean }> {
    return Promise.reject(new SecretStoreReadOnlyError(this.name));
  }

  list(): Promise<SecretEntry[]> {
    return Promise.resolve([]);
  }

  delete(): Promise<boolean> {
    return Promise.reject(new SecretStoreReadOnlyError(this.name));
  }
}
