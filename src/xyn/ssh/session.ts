/**
 * One command over one SSH connection (ssh2): connect, have the host key
 * judged, authenticate with the one method given, exec, feed stdin, collect
 * stdout and stderr up to a limit each, and close.
 *
 * Why apart from the action: this is the wire and its failure modes (which
 * ssh2 error means what), the action is the contract (inputs, ports,
 * outputs, checks).
 *
 * - Output past `maxOutputBytes` on a stream is counted, not kept: the
 *   command goes on to its end (cutting it would change what it does — a
 *   deploy half-done because its log was long), and `truncated` says so.
 * - Aborting the signal kills the command (a KILL signal request on its
 *   channel, which OpenSSH ≥ 7.9 delivers) and closes the connection at
 *   once; the promise rejects with the signal's reason.
 *
 *   const r = await runSshCommand({ host, port: 22, user: 'deploy', auth: { password }, cmd: 'uptime', ... });
 *   // { exit_code: 0, signal: null, stdout: ' 10:00:00 up 3 days…', stderr: '', truncated: false, bytes_in: 68, bytes_out: 0 }
 */
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { SshAuthError, SshConnectError } from './errors.ts';

const KEEPALIVE_MS = 15_000;
/** How long an aborted command's exec answer is waited for (to kill it) before the connection is dropped all the same. */
const EXEC_ANSWER_WAIT_MS = 5_000;

export type SshAuth = { privateKey: string; passphrase?: string } | { password: string };
export type OutputStream = 'stdout' | 'stderr';

export interface SshCommand {
  host: string;
  port: number;
  user: string;
  auth: SshAuth;
  cmd: string;
  stdin?: string | undefined;
  maxOutputBytes: number;
  /** How long the handshake may take before the connection is given up as failed. */
  connectTimeoutMs: number;
  signal: AbortSignal;
  /** Resolves to accept the host key (SSH wire encoding); rejects, with what the run is told, to refuse it. */
  verifyHostKey(key: Buffer): Promise<void>;
  /** Each piece of output kept, in the order it came. */
  onOutput(stream: OutputStream, chunk: Buffer): void;
}

export interface SshCommandResult {
  /** null when the command was killed by a signal (or the server said no status). */
  exit_code: number | null;
  /** The signal that killed it, without SIG ('TERM'), or null. */
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Whether output past maxOutputBytes was dropped from stdout or stderr. */
  truncated: boolean;
  /** Output bytes received, kept or not. */
  bytes_in: number;
  /** stdin bytes sent. */
  bytes_out: number;
}

/** A stream's output up to `max` bytes; what comes past it is only counted. */
class Capture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  seen = 0;

  constructor(private readonly max: number) {}

  /** The part of `chunk` kept (empty once full). */
  add(chunk: Buffer): Buffer {
    this.seen += chunk.length;
    const part = chunk.subarray(0, Math.max(0, this.max - this.kept));
    this.kept += part.length;
    if (part.length > 0) this.chunks.push(part);
    return part;
  }

  get truncated(): boolean {
    return this.seen > this.kept;
  }

  text(): string {
    return Buffer.concat(this.chunks, this.kept).toString('utf8');
  }
}

/** ssh2's own parts a channel has at run time, which its types do not say. */
interface ChannelInternals {
  outgoing: { id: number; state: string };
  _client: { _protocol: { signal(channelId: number, signal: string): void } };
}

/**
 * Sends a KILL signal request for the channel's command. Not
 * `channel.signal()`: ssh2 sends nothing once our side has sent EOF (which
 * it has, stdin being ended at the start), although RFC 4254 §6.9 lets a
 * signal be asked while the channel is open, and OpenSSH honours it then.
 */
function killCommand(channel: ClientChannel): void {
  const { outgoing, _client } = channel as unknown as ChannelInternals;
  if (outgoing.state === 'open' || outgoing.state === 'eof') _client._protocol.signal(outgoing.id, 'KILL');
}

function credentials(auth: SshAuth): Pick<ConnectConfig, 'privateKey' | 'passphrase' | 'password' | 'authHandler'> {
  // One method only: a refused key must not fall through to another the step did not ask for.
  if ('password' in auth) return { password: auth.password, authHandler: ['password'] };
  return { privateKey: auth.privateKey, ...(auth.passphrase !== undefined ? { passphrase: auth.passphrase } : {}), authHandler: ['publickey'] };
}

export function runSshCommand(c: SshCommand): Promise<SshCommandResult> {
  return new Promise<SshCommandResult>((resolve, reject) => {
    const conn = new Client();
    const out = { stdout: new Capture(c.maxOutputBytes), stderr: new Capture(c.maxOutputBytes) };
    let channel: ClientChannel | undefined;
    let hostKeyRefusal: unknown;
    let settled = false;
    const settle = (then: () => void) => {
      if (settled) return;
      settled = true;
      c.signal.removeEventListener('abort', onAbort);
      then();
    };
    const fail = (err: unknown) =>
      settle(() => {
        conn.destroy();
        reject(err);
      });
    let execAsked = false;
    function onAbort() {
      settle(() => {
        reject(c.signal.reason);
        // Asked but not yet answered: the command may run already; it is killed when its channel comes (below).
        if (execAsked && !channel) {
          setTimeout(() => conn.destroy(), EXEC_ANSWER_WAIT_MS).unref();
          return;
        }
        if (channel) killCommand(channel);
        conn.end();
      });
    }
    if (c.signal.aborted) return reject(c.signal.reason);
    c.signal.addEventListener('abort', onAbort, { once: true });

    const onData = (stream: OutputStream) => (chunk: Buffer) => {
      const kept = out[stream].add(chunk);
      if (kept.length > 0) c.onOutput(stream, kept);
    };
    const exec = () => {
      execAsked = true;
      conn.exec(c.cmd, (err, stream) => {
        if (settled) {
          if (!err) killCommand(stream);
          conn.end();
          return;
        }
        if (err) return fail(new SshConnectError(c.host, c.port, `the server would not run the command: ${err.message}`, { cause: err }));
        channel = stream;
        let exit: { code: number | null; signal: string | null } = { code: null, signal: null };
        stream.on('exit', (code: number | null, signal?: string) => (exit = { code: typeof code === 'number' ? code : null, signal: signal ? signal.replace(/^SIG/, '') : null }));
        stream.on('data', onData('stdout'));
        stream.stderr.on('data', onData('stderr'));
        stream.on('close', () =>
          settle(() => {
            conn.end();
            resolve({
              exit_code: exit.code,
              signal: exit.signal,
              stdout: out.stdout.text(),
              stderr: out.stderr.text(),
              truncated: out.stdout.truncated || out.stderr.truncated,
              bytes_in: out.stdout.seen + out.stderr.seen,
              bytes_out: c.stdin === undefined ? 0 : Buffer.byteLength(c.stdin),
            });
          }),
        );
        // End stdin either way: a command that reads it must not wait for more.
        stream.end(c.stdin);
      });
    };

    conn.on('ready', exec);
    conn.on('error', (err: Error & { level?: string; code?: string }) => {
      if (hostKeyRefusal !== undefined) return fail(hostKeyRefusal);
      if (err.level === 'client-authentication') return fail(new SshAuthError(c.host, c.port, c.user, 'password' in c.auth ? 'password' : 'publickey'));
      fail(new SshConnectError(c.host, c.port, err.code ?? err.message, { cause: err }));
    });
    conn.on('close', () => fail(new SshConnectError(c.host, c.port, 'the connection closed before the command ended')));
    conn.connect({
      host: c.host,
      port: c.port,
      username: c.user,
      ...credentials(c.auth),
      readyTimeout: c.connectTimeoutMs,
      keepaliveInterval: KEEPALIVE_MS,
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        c.verifyHostKey(key).then(
          () => verify(true),
          (err: unknown) => {
            hostKeyRefusal = err;
            verify(false);
          },
        );
      },
    });
  });
}
