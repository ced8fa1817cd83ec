/**
 * Why a secret could not be had: each condition its own class with a stable
 * code, none retryable (the same ref, key or file fails the same way again),
 * each registered so it keeps its class across a thread hop. No message
 * ever holds a value: they name the path, the variable and the file.
 */
import { NonRetryableError, registerErrorClass } from '../../core/errors.ts';

/** A secret path that breaks the naming rule (paths.ts); `field` names where it came from. */
export class SecretPathError extends NonRetryableError {
  constructor(message: string, readonly field: string) {
    super(message, 'SECRET_PATH', { field });
  }
}

/** No store holds the secret; `looked` says where it was looked for, in order. */
export class SecretNotFoundError extends NonRetryableError {
  constructor(
    readonly path: string,
    readonly looked: readonly string[],
  ) {
    super(`no secret ${path}: ${looked.join(', ')}`, 'SECRET_NOT_FOUND', { path, looked });
  }
}

/** The secrets file exists (or is to be written) and XYN_SECRETS_KEY is not set. */
export class SecretsKeyMissingError extends NonRetryableError {
  constructor(readonly file: string) {
    super(`the secrets in ${file} are encrypted: set XYN_SECRETS_KEY (32 bytes as 64 hex digits or base64, or a passphrase) to read or change them`, 'SECRETS_KEY_MISSING', { file });
  }
}

/** XYN_SECRETS_KEY does not open the file (its AES-GCM tag does not verify): another key made it, or it was altered. */
export class SecretsKeyWrongError extends NonRetryableError {
  constructor(readonly file: string) {
    super(`XYN_SECRETS_KEY does not open ${file}: it was written with another key (or altered since); set the key it was written with`, 'SECRETS_KEY_WRONG', { file });
  }
}

/** The secrets file is not one this node writes (not JSON, an unknown format). */
export class SecretsFileError extends NonRetryableError {
  constructor(readonly file: string, problem: string) {
    super(`${file} is not a secrets file: ${problem}`, 'SECRETS_FILE', { file });
  }
}

/** A change asked of a store that only reads (the environment). */
export class SecretStoreReadOnlyError extends NonRetryableError {
  constructor(store: string) {
    super(`${store} is read-only: secrets there are set outside xyn`, 'SECRET_STORE_READ_ONLY', { store });
  }
}

for (const cls of [SecretPathError, SecretNotFoundError, SecretsKeyMissingError, SecretsKeyWrongError, SecretsFileError, SecretStoreReadOnlyError]) {
  registerErrorClass(cls);
}
