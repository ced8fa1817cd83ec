/**
 * `ssh.run`: one command on a remote host over SSH (ssh2), authenticated by
 * a key or a password the run's secrets hold (`private_key_ref`,
 * `password_ref`: references, never values), with the host's key checked
 * against the node's known_hosts (pinned on first use, a changed one
 * refused), bounded in time (`timeout_ms`, connect and command) and in the
 * output kept (`max_output_bytes` per stream).
 *
 * A non-zero exit fails the step (SSH_EXIT_NONZERO, with the tail of stderr)
 * unless it says `check: false`, as http.call fails on a status it was not
 * told to expect: a remediation whose command failed must not pass for done.
 * Not idempotent: a command may do its work twice if run again; a step whose
 * command is safe to repeat says `idempotent: true`.
 *
 *   await sshRun.execute({ host: '10.0.0.5', user: 'deploy', private_key_ref: 'deploy-key', cmd: 'systemctl restart app', ... }, ctx)
 *   // { exit_code: 0, signal: null, stdout: '', stderr: '', truncated: false }
 */
import { keepOutputArtifact } from './output-artifact.ts';
import { z } from 'zod';
// ssh2 is CommonJS whose `utils` Node's ESM loader cannot name: taken from the default export.
import ssh2 from 'ssh2';
import type { Action, ActionContext, KnownHostsPort, SecretsPort } from './action.ts';
import { ActionAbortedError, ActionTimeoutError } from './errors.ts';
import { SshExitError, SshKeyError, SshPortMissingError } from '../ssh/errors.ts';
import { runSshCommand, type OutputStream, type SshAuth } from '../ssh/session.ts';

const NAME = 'ssh.run';
const MiB = 1024 * 1024;
const STDERR_TAIL_CHARS = 500;

const ref = z.string().min(1).max(256);

const input = z
  .strictObject({
    host: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9._:-]+$/, 'must be a host name or an IP address'),
    port: z.number().int().min(1).max(65_535).default(22),
    user: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[^\s:]+$/, 'must be a user name (no spaces or colons)'),
    cmd: z.string().min(1),
    stdin: z.string().optional(),
    /** Connect and command together. */
    timeout_ms: z.number().int().min(1).max(86_400_000).default(300_000),
    max_output_bytes: z.number().int().min(0).max(64 * MiB).default(MiB),
    check: z.boolean().default(true),
    private_key_ref: ref.optional(),
    passphrase_ref: ref.optional(),
    password_ref: ref.optional(),
  })
  .superRefine((i, ctx) => {
    if ((i.private_key_ref === undefined) === (i.password_ref === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['private_key_ref'], message: `needs exactly one of private_key_ref or password_ref${i.password_ref !== undefined ? ', not both' : ''}` });
    }
    if (i.passphrase_ref !== undefined && i.private_key_ref === undefined) {
      ctx.addIssue({ code: 'custom', path: ['passphrase_ref'], message: 'applies only with private_key_ref (it opens an encrypted key)' });
    }
  });

const output = z.object({
  exit_code: z.number().int().nullable(),
  signal: z.string().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean(),
});

export type SshRunInput = z.output<typeof input>;
export type SshRunOutput = z.output<typeof output>;

/** The credentials the step's refs name, checked before any connection (a bad key is no network failure). */
async function resolveAuth(call: SshRunInput, secrets: SecretsPort): Promise<SshAuth> {
  if (call.password_ref !== undefined) return { password: await secrets.resolve(call.password_ref) };
  const keyRef = call.private_key_ref as string;
  const privateKey = await secrets.resolve(keyRef);
  const passphrase = call.passphrase_ref === undefined ? undefined : await secrets.resolve(call.passphrase_ref);
  const parsed = ssh2.utils.parseKey(privateKey, passphrase);
  if (parsed instanceof Error) throw new SshKeyError(keyRef, parsed.message);
  return passphrase === undefined ? { privateKey } : { privateKey, passphrase };
}

function requirePorts(call: SshRunInput, ctx: ActionContext): { secrets: SecretsPort; knownHosts: KnownHostsPort } {
  const { secrets, knownHosts } = ctx;
  if (!secrets) {
    const field = call.password_ref !== undefined ? 'password_ref' : 'private_key_ref';
    throw new SshPortMissingError('secrets', `this node gives runs no secrets, so ${field} ${call.password_ref ?? call.private_key_ref} cannot be resolved`);
  }
  if (!knownHosts) throw new SshPortMissingError('knownHosts', `this node keeps no known_hosts, so the host key of ${call.host}:${call.port} cannot be checked`);
  return { secrets, knownHosts };
}

/**
 * The output as it came, in runs of one stream, kept to the end and written
 * then (to the step log, and as the `ssh-output` artifact): a secret is
 * scrubbed from a whole run of text, not from chunks it could straddle.
 */
class OutputRecord {
  private readonly runs: { stream: OutputStream; chunks: Buffer[] }[] = [];

  add(stream: OutputStream, chunk: Buffer): void {
    const last = this.runs.at(-1);
    if (last?.stream === stream) last.chunks.push(chunk);
    else this.runs.push({ stream, chunks: [chunk] });
  }

  async keep(ctx: ActionContext, secrets: SecretsPort, metadata: Record<string, unknown>): Promise<void> {
    const lines = this.runs.map(({ stream, chunks }) => ({ stream, text: secrets.scrub(Buffer.concat(chunks).toString('utf8')) }));
    for (const line of lines) ctx.stepLog?.write({ msg: 'ssh.run output', ...line });
    if (lines.length === 0) return;
    await keepOutputArtifact(ctx, NAME, {
      name: 'ssh-output',
      kind: 'log',
      content_type: 'application/x-ndjson',
      body: lines.map((l) => `${JSON.stringify(l)}\n`).join(''),
      metadata,
    });
  }
}

async function execute(call: SshRunInput, ctx: ActionContext): Promise<SshRunOutput> {
  const { secrets, knownHosts } = requirePorts(call, ctx);
  if (ctx.signal.aborted) throw new ActionAbortedError(NAME);
  const began = Date.now();
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), call.timeout_ms);
  const record = new OutputRecord();
  let ended: Record<string, unknown> = { exit_code: null, signal: null, truncated: false };
  try {
    const auth = await resolveAuth(call, secrets);
    const result = await runSshCommand({
      host: call.host,
      port: call.port,
      user: call.user,
      auth,
      cmd: call.cmd,
      stdin: call.stdin,
      maxOutputBytes: call.max_output_bytes,
      connectTimeoutMs: call.timeout_ms,
      signal: AbortSignal.any([ctx.signal, timeout.signal]),
      verifyHostKey: async (key) => {
        const check = await knownHosts.verify(call.host, call.port, key);
        if (check.outcome === 'pinned') {
          await ctx.bus.publish(
            'xyn.ssh.host_key_pinned',
            { host: call.host, port: call.port, key_type: check.key_type, fingerprint: check.fingerprint },
            { correlation_id: ctx.correlationId, actor: `xyn:run:${ctx.runId}`, run_id: ctx.runId, step_id: ctx.stepId },
          );
        }
      },
      onOutput: (stream, chunk) => record.add(stream, chunk),
    });
    ended = { exit_code: result.exit_code, signal: result.signal, truncated: result.truncated };
    ctx.footprints?.record({ metric: 'bytes_in', quantity: result.bytes_in, unit: 'bytes', dims: { action: NAME } });
    ctx.footprints?.record({ metric: 'bytes_out', quantity: result.bytes_out, unit: 'bytes', dims: { action: NAME } });
    const out: SshRunOutput = { exit_code: result.exit_code, signal: result.signal, stdout: secrets.scrub(result.stdout), stderr: secrets.scrub(result.stderr), truncated: result.truncated };
    if (call.check && out.exit_code !== 0) throw new SshExitError(call.host, out.exit_code, out.signal, out.stderr.slice(-STDERR_TAIL_CHARS));
    return out;
  } catch (err) {
    if (ctx.signal.aborted) throw new ActionAbortedError(NAME);
    if (timeout.signal.aborted) throw new ActionTimeoutError(NAME, call.timeout_ms);
    throw err;
  } finally {
    clearTimeout(timer);
    ctx.footprints?.record({ metric: 'wall_ms', quantity: Date.now() - began, unit: 'ms', dims: { action: NAME } });
    await record.keep(ctx, secrets, { host: call.host, port: call.port, ...ended });
  }
}

export const sshRun: Action<SshRunInput, SshRunOutput> = {
  name: NAME,
  input,
  output,
  idempotent: false,
  execute,
};
