/**
 * A real OpenSSH server for tests: Debian's `/usr/sbin/sshd` in the
 * foreground on 127.0.0.1 and a free port, with a host key, config and
 * authorized keys of its own in a temp dir, letting in one local user
 * (`xyntest`, made once with `useradd -m`; needs root, as CI has) by password
 * or by a generated ed25519 key (one plain, one with a passphrase).
 *
 *   const sshd = await startSshd();
 *   // sshd.port, sshd.user, sshd.password, sshd.privateKey, sshd.hostFingerprint
 *   await sshd.restart({ newHostKey: true }); // same port, another host key
 *   await sshd.stop();
 *
 * The user's password is made once with the user and kept in a root-only
 * file: test files run in parallel, and one setting a new password would
 * lock the other out. That setup runs under `flock` for the same reason.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../kernel/helpers.ts';
import { freePort } from './free-port.ts';

const USER = 'xyntest';
const PASSWORD_FILE = '/root/.xyn-test-sshd-password';
const SETUP_LOCK = join(tmpdir(), 'xyn-test-sshd.lock');
export const KEY_PASSPHRASE = 'correct horse battery';

export interface TestSshd {
  host: '127.0.0.1';
  port: number;
  user: string;
  password: string;
  /** An OpenSSH private key the server accepts for `user`. */
  privateKey: string;
  /** Another one, encrypted with KEY_PASSPHRASE. */
  encryptedKey: string;
  /** The host key's fingerprint as OpenSSH prints it (SHA256:…). */
  hostFingerprint: string;
  /** What sshd wrote to stderr (its log), for a failing test to show. */
  output(): string;
  /** Stops the server, and starts it again on the same port (with a new host key if asked). */
  restart(opts?: { newHostKey?: boolean }): Promise<void>;
  /** Stops it; the temp dir stays until `stop`. */
  halt(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Whether a process runs with `marker` in its command line (the server is on
 * this machine: a command it started is one of ours to see). Read from /proc
 * without blocking, so an action running in this process goes on meanwhile.
 */
export async function processRuns(marker: string): Promise<boolean> {
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').join(' ').includes(marker)) return true;
  }
  return false;
}

/** The test user, made if missing, and its password (made with it). */
function ensureUser(): string {
  const script = `id -u ${USER} >/dev/null 2>&1 || useradd -m -s /bin/sh ${USER}
if [ ! -s ${PASSWORD_FILE} ]; then
  umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > ${PASSWORD_FILE}
  echo "${USER}:$(cat ${PASSWORD_FILE})" | chpasswd
fi
mkdir -p /run/sshd`;
  execFileSync('flock', [SETUP_LOCK, 'sh', '-c', script], { stdio: 'ignore' });
  return readFileSync(PASSWORD_FILE, 'utf8').trim();
}

function keygen(file: string, passphrase = ''): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'xyn-test', '-f', file], { stdio: 'ignore' });
}

function fingerprint(pubFile: string): string {
  // "256 SHA256:abc… comment (ED25519)"
  return execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile], { encoding: 'utf8' }).split(' ')[1] ?? '';
}

/** Whether the server answers with its SSH banner. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString('latin1').startsWith('SSH-'));
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startSshd(): Promise<TestSshd> {
  const password = ensureUser();
  const dir = mkdtempSync(join(tmpdir(), 'xyn-sshd-'));
  // sshd reads the authorized keys as the user: it must be able to reach them.
  chmodSync(dir, 0o755);
  const hostKey = join(dir, 'host_ed25519');
  keygen(join(dir, 'client'));
  keygen(join(dir, 'client_encrypted'), KEY_PASSPHRASE);
  const authorized = join(dir, 'authorized_keys');
  writeFileSync(authorized, readFileSync(join(dir, 'client.pub'), 'utf8') + readFileSync(join(dir, 'client_encrypted.pub'), 'utf8'), { mode: 0o644 });
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      'PidFile none',
      `AuthorizedKeysFile ${authorized}`,
      // The temp dir is root's, not the user's: StrictModes would refuse the keys in it.
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      `AllowUsers ${USER}`,
      'PermitRootLogin no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );

  let server: ChildProcess | undefined;
  let log = '';
  let hostFingerprint = '';
  const start = async (newHostKey: boolean) => {
    if (newHostKey) {
      rmSync(hostKey, { force: true });
      rmSync(`${hostKey}.pub`, { force: true });
      keygen(hostKey);
      hostFingerprint = fingerprint(`${hostKey}.pub`);
      handle.hostFingerprint = hostFingerprint;
    }
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => (log += d.toString('utf8')));
    server = child;
    let exited = false;
    child.once('exit', () => (exited = true));
    await waitFor(async () => exited || (await answers(port)), 10_000, `sshd on port ${port}`);
    if (exited) throw new Error(`sshd exited at start:\n${log}`);
  };
  const halt = async () => {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  const handle: TestSshd = {
    host: '127.0.0.1',
    port,
    user: USER,
    password,
    privateKey: readFileSync(join(dir, 'client'), 'utf8'),
    encryptedKey: readFileSync(join(dir, 'client_encrypted'), 'utf8'),
    hostFingerprint,
    output: () => log,
    async restart(opts = {}) {
      await halt();
      await start(opts.newHostKey ?? false);
    },
    halt,
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await start(true);
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}
