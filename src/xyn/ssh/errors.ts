/**
 * Why an `ssh.run` failed, one class per condition, each saying whether a
 * later try may mend it (the step retries only an idempotent step, and only
 * what is retryable) and registered so it keeps its class across a thread hop.
 */
import { NonRetryableError, XynError, registerErrorClass } from '../../core/errors.ts';

/** The server could not be reached or the connection was lost (refused, unreachable, DNS, reset): a later try may reach it. */
export class SshConnectError extends XynError {
  constructor(host: string, port: number, reason: string, options?: { cause?: unknown }) {
    super(`ssh.run: could not connect to ${host}:${port}: ${reason}`, 'SSH_CONNECT_FAILED', { host, port, reason }, options);
  }
}

/** The server refused the user's credentials: the same ones are refused again. */
export class SshAuthError extends NonRetryableError {
  constructor(host: string, port: number, user: string, method: 'publickey' | 'password') {
    super(`ssh.run: ${host}:${port} refused ${method} authentication for user ${user}: check the user and the secret the step's ${method === 'password' ? 'password_ref' : 'private_key_ref'} names`, 'SSH_AUTH_FAILED', { host, port, user, method });
  }
}

/** The secret `private_key_ref` names is no private key ssh2 can read, or `passphrase_ref` does not open it. */
export class SshKeyError extends NonRetryableError {
  constructor(ref: string, reason: string) {
    super(`ssh.run: the secret ${ref} (private_key_ref) is not a usable private key: ${reason}`, 'SSH_KEY_INVALID', { ref, reason });
  }
}

/** The server offered a host key other than the one pinned for it: maybe a reinstalled server, maybe a man in the middle. */
export class SshHostKeyChangedError extends NonRetryableError {
  constructor(details: { host: string; port: number; pinned_fingerprint: string; offered_fingerprint: string; file: string; line: number }) {
    const { host, port, pinned_fingerprint, offered_fingerprint, file, line } = details;
    super(
      `ssh.run: the host key of ${host}:${port} changed: ${offered_fingerprint} offered, ${pinned_fingerprint} pinned. ` +
        `If the change is expected (the server was reinstalled), remove line ${line} of ${file} and run again: the new key is pinned on first use`,
      'SSH_HOST_KEY_CHANGED',
      details,
    );
  }
}

/** The command exited non-zero (or was killed by a signal) and the step asked `check: true`. */
export class SshExitError extends XynError {
  constructor(host: string, exitCode: number | null, signal: string | null, stderrTail: string) {
    const how = exitCode === null ? `was killed by signal ${signal ?? 'unknown'}` : `exited ${exitCode}`;
    super(`ssh.run: the command on ${host} ${how}${stderrTail ? `; stderr ends: ${stderrTail}` : ''} (set check: false to take a non-zero exit as an output)`, 'SSH_EXIT_NONZERO', {
      host,
      exit_code: exitCode,
      signal,
      stderr_tail: stderrTail,
    });
  }
}

/** The node gives the action no port it needs (its secrets, its known_hosts). */
export class SshPortMissingError extends NonRetryableError {
  constructor(port: 'secrets' | 'knownHosts', why: string) {
    super(`ssh.run: ${why}`, 'SSH_NOT_CONFIGURED', { port });
  }
}

for (const cls of [SshConnectError, SshAuthError, SshKeyError, SshHostKeyChangedError, SshExitError, SshPortMissingError]) {
  registerErrorClass(cls);
}
