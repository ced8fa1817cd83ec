/**
 * The node's secrets: the environment first, then the encrypted file — an
 * operator's `XYN_SECRET_DEPLOY_KEY` wins over what the file holds (the way
 * a variable wins over the config file). Changes go to the file, the only
 * one that takes them; a secret found nowhere is a SecretNotFoundError that
 * names every place looked at, in order.
 *
 *   const secrets = nodeSecretStore(config.secretsFile, process.env, config.XYN_SECRETS_KEY);
 *   await secrets.get('deploy-key');   // no secret deploy-key: XYN_SECRET_DEPLOY_KEY not set, not in /data/secrets.enc
 */
import { EnvSecretStore } from './env-store.ts';
import { SecretNotFoundError } from './errors.ts';
import { FileSecretStore } from './file-store.ts';
import type { SecretEntry, SecretMetadata, SecretStore } from './store.ts';

export class ChainSecretStore implements SecretStore {
  readonly name: string;

  /** `readers` are asked in order; `writer` (one of them) takes every change. */
  constructor(
    private readonly readers: readonly SecretStore[],
    private readonly writer: SecretStore,
  ) {
    this.name = readers.map((s) => s.name).join(', then ');
  }

  async get(path: string): Promise<string> {
    const looked: string[] = [];
    for (const store of this.readers) {
      try {
        return await store.get(path);
      } catch (err) {
        if (!(err instanceof SecretNotFoundError)) throw err;
        looked.push(...err.looked);
      }
    }
    throw new SecretNotFoundError(path, looked);
  }

  put(path: string, value: string, metadata?: SecretMetadata): Promise<{ created: boolean }> {
    return this.writer.put(path, value, metadata);
  }

  delete(path: string): Promise<boolean> {
    return this.writer.delete(path);
  }

  async list(prefix?: string): Promise<SecretEntry[]> {
    const seen = new Map<string, SecretEntry>();
    for (const store of this.readers) for (const entry of await store.list(prefix)) if (!seen.has(entry.path)) seen.set(entry.path, entry);
    return [...seen.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}

/** The node's store: `env` (XYN_SECRET_*), then `file` opened with `key` (XYN_SECRETS_KEY); changes go to the file. */
export function nodeSecretStore(file: string, env: NodeJS.ProcessEnv, key: string | undefined): ChainSecretStore {
  const encrypted = new FileSecretStore(file, key);
  return new ChainSecretStore([new EnvSecretStore(env), encrypted], encrypted);
}
