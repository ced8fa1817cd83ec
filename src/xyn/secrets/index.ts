/**
 * Secrets (seed 004 §26): the SecretStore contract and its backends (the
 * environment, an encrypted file, the node's chain of both), secret paths,
 * and a run's RunSecrets, which resolves `*_ref` fields for its actions and
 * scrubs their values from everything the run records.
 */
export { ChainSecretStore, nodeSecretStore } from './chain-store.ts';
export { EnvSecretStore, SECRET_ENV_PREFIX, secretEnvName } from './env-store.ts';
export { SecretNotFoundError, SecretPathError, SecretsFileError, SecretsKeyMissingError, SecretsKeyWrongError, SecretStoreReadOnlyError } from './errors.ts';
export { FileSecretStore } from './file-store.ts';
export { SECRET_PATH_MAX, SECRET_PATH_PATTERN, SECRET_PATH_RULE, secretPath, secretPathProblem } from './paths.ts';
export { MIN_SCRUBBED_LENGTH, REDACTED, RunSecrets } from './run-secrets.ts';
export type { SecretEntry, SecretMetadata, SecretStore } from './store.ts';
