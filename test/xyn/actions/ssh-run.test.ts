/**
 * ssh.run against a real OpenSSH server on 127.0.0.1 (test/helpers/sshd.ts):
 * key, encrypted key and password auth, stdin, exit codes and `check`,
 * limits in time and output, cancel killing the remote command, the
 * failures (refused, bad password, bad key), the known_hosts pinning, and
 * what reaches the step log, the artifact and the footprints.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isRetryable } from '../../../src/core/errors.ts';
import type { ArtifactsPort, FootprintInput } from '../../../src/xyn/actions/action.ts';
import { ACTIONS } from '../../../src/xyn/blueprint/index.ts';
import { ActionAbortedError, ActionTimeoutError, idempotentFor, outputNames, parseActionInput, sshRun, type ActionContext, type SshRunOutput } from '../../../src/xyn/actions/index.ts';
import { KnownHostsFile } from '../../../src/xyn/ssh/index.ts';
import { freePort } from '../../helpers/free-port.ts';
import { mapSecrets } from '../../helpers/map-secrets.ts';
import { KEY_PASSPHRASE, processRuns, startSshd, type TestSshd } from '../../helpers/sshd.ts';
import { busOnLogPerTest, waitFor } from '../../kernel/helpers.ts';
import { actionContext, refusedField } from './helpers.ts';

const t = busOnLogPerTest();
let sshd: TestSshd;
beforeAll(async () => {
  sshd = await startSshd();
}, 30_000);
afterAll(async () => {
  await sshd?.stop();
});

interface Recorded {
  ctx: ActionContext;
  logs: Record<string, unknown>[];
  artifacts: Parameters<ArtifactsPort['put']>[0][];
  footprints: FootprintInput[];
  knownHostsFile: string;
}

let r: Recorded;
beforeEach(() => {
  const knownHostsFile = join(t.dir.path, 'known_hosts');
  const logs: Recorded['logs'] = [];
  const artifacts: Recorded['artifacts'] = [];
  const footprints: FootprintInput[] = [];
  const ctx: ActionContext = {
    ...actionContext(t.bus),
    secrets: mapSecrets({ 'deploy-key': sshd.privateKey, 'locked-key': sshd.encryptedKey, 'key-passphrase': KEY_PASSPHRASE, 'deploy-password': sshd.password, 'wrong-password': 'not-the-password', 'wrong-passphrase': 'not the passphrase', 'not-a-key': 'hello' }),
    knownHosts: new KnownHostsFile(knownHostsFile),
    stepLog: { write: (entry) => logs.push(entry) },
    artifacts: {
      put: (a) => {
        artifacts.push(a);
        return Promise.resolve({ artifact_id: `a${artifacts.length}`, sha256: '', byte_length: 0 });
      },
    },
    footprints: { record: (f) => footprints.push(f) },
  };
  r = { ctx, logs, artifacts, footprints, knownHostsFile };
});

function run(raw: Record<string, unknown>, ctx: ActionContext = r.ctx): Promise<SshRunOutput> {
  return sshRun.execute(parseActionInput(sshRun, { host: sshd.host, port: sshd.port, user: sshd.user, private_key_ref: 'deploy-key', ...raw }), ctx);
}

async function failure(p: Promise<unknown>): Promise<Error & { code: string; details: Record<string, unknown> }> {
  return p.then(
    () => expect.fail('the command succeeded'),
    (err: unknown) => err as Error & { code: string; details: Record<string, unknown> },
  );
}

describe('ssh.run', () => {
  it('runs a command with key auth: exit code, stdout and stderr apart', async () => {
    const out = await run({ cmd: 'whoami; echo oops >&2' });
    expect(out).toEqual({ exit_code: 0, signal: null, stdout: `${sshd.user}\n`, stderr: 'oops\n', truncated: false });
    expect(sshRun.output.parse(out)).toEqual(out);
    expect(ACTIONS['ssh.run']).toEqual(outputNames(sshRun));
  });

  it('authenticates with a passphrase-protected key, and with a password', async () => {
    expect((await run({ private_key_ref: 'locked-key', passphrase_ref: 'key-passphrase', cmd: 'echo key' })).stdout).toBe('key\n');
    expect((await run({ private_key_ref: undefined, password_ref: 'deploy-password', cmd: 'echo password' })).stdout).toBe('password\n');
  });

  it('feeds stdin to the command and ends it', async () => {
    const out = await run({ cmd: 'tr a-z A-Z; wc -l', stdin: 'one\ntwo\n' });
    expect(out.stdout).toBe('ONE\nTWO\n0\n');
    const counted = await run({ cmd: 'wc -c', stdin: 'héllo' });
    expect(counted.stdout.trim()).toBe('6');
    expect(r.footprints).toContainEqual({ metric: 'bytes_out', quantity: 6, unit: 'bytes', dims: { action: 'ssh.run' } });
  });

  it('fails a non-zero exit with SSH_EXIT_NONZERO and the tail of stderr; check: false gives it as an output', async () => {
    const err = await failure(run({ cmd: 'echo partial; echo "disk full on /var" >&2; exit 3' }));
    expect(err.code).toBe('SSH_EXIT_NONZERO');
    expect(err.message).toMatch(/exited 3.*disk full on \/var/);
    expect(err.details).toMatchObject({ exit_code: 3, signal: null, stderr_tail: 'disk full on /var\n' });
    expect(r.artifacts).toHaveLength(1);
    const out = await run({ cmd: 'echo partial; exit 3', check: false });
    expect(out).toMatchObject({ exit_code: 3, stdout: 'partial\n' });
  });

  it('says the signal that killed the command', async () => {
    const out = await run({ cmd: 'kill -TERM $$', check: false });
    expect(out).toMatchObject({ exit_code: null, signal: 'TERM' });
    expect((await failure(run({ cmd: 'kill -TERM $$' }))).message).toMatch(/killed by signal TERM/);
  });

  it('keeps at most max_output_bytes of each stream, says truncated, and lets the command finish', async () => {
    const out = await run({ cmd: "head -c 5000 /dev/zero | tr '\\0' a; echo finished >&2", max_output_bytes: 1000 });
    expect(out.stdout).toBe('a'.repeat(1000));
    expect(out.stderr).toBe('finished\n');
    expect(out.truncated).toBe(true);
    expect(r.footprints).toContainEqual({ metric: 'bytes_in', quantity: 5009, unit: 'bytes', dims: { action: 'ssh.run' } });
  });

  it('gives up at timeout_ms with ActionTimeoutError (retryable) and kills the remote command', async () => {
    const marker = `sleep 30.${process.pid}1`;
    const began = Date.now();
    const err = await failure(run({ cmd: marker, timeout_ms: 1_000 }));
    expect(err).toBeInstanceOf(ActionTimeoutError);
    expect(isRetryable(err)).toBe(true);
    expect(Date.now() - began).toBeLessThan(10_000);
    await waitFor(async () => !(await processRuns(marker)), 5_000, 'the remote sleep to end');
  });

  it('stops at once when its signal aborts: the remote command is killed', async () => {
    const marker = `sleep 30.${process.pid}2`;
    const abort = new AbortController();
    const pending = failure(run({ cmd: marker }, { ...r.ctx, signal: abort.signal }));
    await waitFor(() => processRuns(marker), 10_000, 'the remote sleep to start');
    abort.abort();
    expect(await pending).toBeInstanceOf(ActionAbortedError);
    await waitFor(async () => !(await processRuns(marker)), 5_000, 'the remote sleep to be killed');
  });

  it('fails SSH_CONNECT_FAILED (retryable) where no server listens', async () => {
    const port = await freePort();
    const err = await failure(run({ port, cmd: 'true' }));
    expect(err.code).toBe('SSH_CONNECT_FAILED');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.details).toMatchObject({ reason: 'ECONNREFUSED' });
    expect(isRetryable(err)).toBe(true);
  });

  it('fails SSH_AUTH_FAILED (not retryable) on a wrong password, and SSH_KEY_INVALID on a secret that is no key or a key it cannot open', async () => {
    const err = await failure(run({ private_key_ref: undefined, password_ref: 'wrong-password', cmd: 'true' }));
    expect(err.code).toBe('SSH_AUTH_FAILED');
    expect(err.message).toContain('password_ref');
    expect(isRetryable(err)).toBe(false);
    const bad = await failure(run({ private_key_ref: 'not-a-key', cmd: 'true' }));
    expect(bad.code).toBe('SSH_KEY_INVALID');
    expect(bad.message).not.toContain('hello');
    const locked = await failure(run({ private_key_ref: 'locked-key', cmd: 'true' }));
    expect(locked.code).toBe('SSH_KEY_INVALID');
    const misopened = await failure(run({ private_key_ref: 'locked-key', passphrase_ref: 'wrong-passphrase', cmd: 'true' }));
    expect(misopened.code).toBe('SSH_KEY_INVALID');
  });

  it('pins the host key on first use (event, known_hosts line OpenSSH reads), then refuses a changed one naming the line to remove', async () => {
    await run({ cmd: 'true' });
    await run({ cmd: 'true' });
    const pinned = t.bus.queryHistory({ topic: 'xyn.ssh.host_key_pinned' });
    expect(pinned).toHaveLength(1);
    expect(pinned[0]?.data).toEqual({ host: '127.0.0.1', port: sshd.port, key_type: 'ssh-ed25519', fingerprint: sshd.hostFingerprint });
    expect(pinned[0]).toMatchObject({ run_id: 'run-1', step_id: 'step-1' });
    const entry = `[127.0.0.1]:${sshd.port}`;
    expect(readFileSync(r.knownHostsFile, 'utf8')).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 AAAA\\S+\\n$`));
    expect(spawnSync('ssh-keygen', ['-F', entry, '-f', r.knownHostsFile]).status).toBe(0);

    const old = sshd.hostFingerprint;
    await sshd.restart({ newHostKey: true });
    const err = await failure(run({ cmd: 'echo never' }));
    expect(err.code).toBe('SSH_HOST_KEY_CHANGED');
    expect(err.details).toEqual({ host: '127.0.0.1', port: sshd.port, pinned_fingerprint: old, offered_fingerprint: sshd.hostFingerprint, file: r.knownHostsFile, line: 1 });
    expect(err.message).toContain(`remove line 1 of ${r.knownHostsFile}`);
    expect(isRetryable(err)).toBe(false);

    // The operator's way out: remove the line; the new key is pinned on next use.
    expect(spawnSync('ssh-keygen', ['-R', entry, '-f', r.knownHostsFile]).status).toBe(0);
    expect((await run({ cmd: 'echo again' })).stdout).toBe('again\n');
  }, 30_000);

  it('writes the output, scrubbed, to the step log and the ssh-output artifact; records footprints', async () => {
    const out = await run({ cmd: `echo out1; echo err1 >&2; sleep 0.2; echo "the password is ${sshd.password}"`, password_ref: 'deploy-password', private_key_ref: undefined });
    expect(out.stdout).toBe('out1\nthe password is [redacted]\n');
    expect(r.logs.map((l) => [l.stream, l.text])).toEqual([
      ['stdout', 'out1\n'],
      ['stderr', 'err1\n'],
      ['stdout', 'the password is [redacted]\n'],
    ]);
    expect(r.artifacts).toHaveLength(1);
    const artifact = r.artifacts[0] as Recorded['artifacts'][number];
    expect(artifact).toMatchObject({ name: 'ssh-output', kind: 'log', content_type: 'application/x-ndjson', metadata: { host: '127.0.0.1', port: sshd.port, exit_code: 0, truncated: false } });
    expect(String(artifact.body)).not.toContain(sshd.password);
    expect(String(artifact.body).trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
      { stream: 'stdout', text: 'out1\n' },
      { stream: 'stderr', text: 'err1\n' },
      { stream: 'stdout', text: 'the password is [redacted]\n' },
    ]);
    expect(r.footprints.map((f) => f.metric).sort()).toEqual(['bytes_in', 'bytes_out', 'wall_ms']);
    expect(r.footprints.every((f) => f.dims?.action === 'ssh.run')).toBe(true);
  });

  it('refuses to run without the secrets or known_hosts of a node, saying which', async () => {
    const { secrets: _s, ...noSecrets } = r.ctx;
    const err = await failure(run({ cmd: 'true' }, noSecrets));
    expect(err).toMatchObject({ code: 'SSH_NOT_CONFIGURED', details: { port: 'secrets' } });
    expect(err.message).toContain('private_key_ref deploy-key');
    const { knownHosts: _k, ...noKnownHosts } = r.ctx;
    expect(await failure(run({ cmd: 'true' }, noKnownHosts))).toMatchObject({ code: 'SSH_NOT_CONFIGURED', details: { port: 'knownHosts' } });
  });

  it('refuses bad input naming the field; is not idempotent', () => {
    const base = { host: 'h', user: 'u', cmd: 'true', private_key_ref: 'k' };
    expect(refusedField(sshRun, { ...base, private_key_ref: undefined })).toBe('private_key_ref');
    expect(refusedField(sshRun, { ...base, password_ref: 'p' })).toBe('private_key_ref');
    expect(refusedField(sshRun, { ...base, private_key_ref: undefined, password_ref: 'p', passphrase_ref: 'x' })).toBe('passphrase_ref');
    expect(refusedField(sshRun, { ...base, host: 'a b' })).toBe('host');
    expect(refusedField(sshRun, { ...base, port: 70_000 })).toBe('port');
    expect(refusedField(sshRun, { ...base, cmd: '' })).toBe('cmd');
    expect(refusedField(sshRun, { ...base, password: 'inline' })).toBe('with');
    expect(idempotentFor(sshRun, parseActionInput(sshRun, base))).toBe(false);
  });
});
