/**
 * `xyn secret set NAME` (the value on stdin), `xyn secret list [--prefix P]`
 * (paths and metadata as JSON lines, never values), `xyn secret rm NAME`:
 * the node's encrypted secrets file (DATA_DIR/secrets.enc, under
 * XYN_SECRETS_KEY).
 *
 * The value is read from stdin, never from the command line: argv is seen by
 * every user of the machine (`ps`, /proc/PID/cmdline) and kept in shell
 * histories. `printf %s "$TOKEN" | xyn secret set api-token`; one trailing
 * newline is dropped (`echo` adds one), others are kept.
 *
 * With `--url` (and an admiral's `--token`) they go through a running node's
 * API. Without, `set` and `rm` work on the data dir holding its lock —
 * refused while a node holds it, pointing at its API (the node owns the event
 * log the change is audited in); `list` only reads the file, which is only
 * ever replaced whole. Either way each change is recorded on `hxo.audit`,
 * with the path, never the value.
 */
import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { ValidationError } from '../../core/errors.ts';
import { Bus } from '../../kernel/bus.ts';
import { publishAudit } from '../../kernel/audit.ts';
import { EventLog } from '../../store/event-log.ts';
import { DataDirLockedError, withDataDirLock } from '../../store/index.ts';
import { FileSecretStore, SecretNotFoundError, secretPath, type SecretEntry, type SecretMetadata } from '../../xyn/secrets/index.ts';
import { configFromFlags, withDataFlag, type NodeFlags } from '../config-flags.ts';
import { callApi, type RemoteFlags } from '../api-client.ts';

type Flags = NodeFlags & RemoteFlags;
type Audit = (operation: string, details: Record<string, unknown>) => Promise<void>;

export function registerSecret(program: Command): void {
  const secret = program.command('secret').description("the node's secrets (encrypted in DATA_DIR/secrets.enc under XYN_SECRETS_KEY; values never shown)");

  withFlags(secret.command('set'))
    .argument('<name>', 'its path: deploy-key, sys/local/providers/openai')
    .description('set a secret to the value read from stdin (never from the command line, where ps and shell histories would show it)')
    .option('--meta <key=value>', 'what may be said of it (owner, purpose), repeatable; never the value', collectMeta, {})
    .action(async (name: string, flags: Flags & { meta: SecretMetadata }) => {
      const path = secretPath(name, 'NAME');
      const value = await readValue();
      const { created } = flags.url
        ? await callApi<{ created: boolean }>(flags, 'PUT', `/api/v1/secrets/${encodeURIComponent(path)}`, { value, metadata: flags.meta })
        : await offline(flags, 'secret set', async (store, audit) => {
            const done = await store.put(path, value, flags.meta);
            await audit('secret.put', { path, created: done.created });
            return done;
          });
      process.stderr.write(`xyn: secret ${path} ${created ? 'set' : 'replaced'}\n`);
    });

  withFlags(secret.command('list'))
    .description('the secrets: path, metadata, last set (never values; XYN_SECRET_* variables are not listed)')
    .option('--prefix <prefix>', 'only paths starting with it', '')
    .action(async (flags: Flags & { prefix: string }) => {
      const items = flags.url
        ? (await callApi<{ items: SecretEntry[] }>(flags, 'GET', `/api/v1/secrets?prefix=${encodeURIComponent(flags.prefix)}`)).items
        : await fileStore(flags).then((store) => store.list(flags.prefix));
      for (const entry of items) process.stdout.write(`${JSON.stringify(entry)}\n`);
    });

  withFlags(secret.command('rm'))
    .argument('<name>', 'its path')
    .description('remove a secret from the secrets file')
    .action(async (name: string, flags: Flags) => {
      const path = secretPath(name, 'NAME');
      if (flags.url) {
        await callApi(flags, 'DELETE', `/api/v1/secrets/${encodeURIComponent(path)}`);
      } else {
        await offline(flags, 'secret rm', async (store, audit) => {
          if (!(await store.delete(path))) throw new SecretNotFoundError(path, [`not in ${store.file}`]);
          await audit('secret.delete', { path });
        });
      }
      process.stderr.write(`xyn: secret ${path} removed\n`);
    });
}

function withFlags(cmd: Command): Command {
  return withDataFlag(cmd).option('--url <url>', "a running node's API (then --token: an admiral's)").option('--token <token>', 'API token (XYN_TOKEN)');
}

function collectMeta(pair: string, into: SecretMetadata): SecretMetadata {
  const at = pair.indexOf('=');
  if (at <= 0) throw new ValidationError(`--meta takes key=value, got ${JSON.stringify(pair)}`, '--meta');
  return { ...into, [pair.slice(0, at)]: pair.slice(at + 1) };
}

/** The whole of stdin, less one trailing newline; an empty value is refused saying how to give one. */
async function readValue(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('xyn: type the value, then Enter and Ctrl-D (it is not echoed back by xyn, but your terminal shows it: prefer a pipe)\n');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const value = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (value === '') throw new ValidationError('the value is read from stdin, which was empty: printf %s "$VALUE" | xyn secret set NAME (or < FILE)', 'stdin');
  return value;
}

/**
 * The secrets file of the data dir, holding the data dir's lock for the
 * command (no node can start on it meanwhile), each change audited in its
 * event log. While a node holds it, the refusal points at the node's API.
 */
async function offline<T>(flags: Flags, command: string, fn: (store: FileSecretStore, audit: Audit) => Promise<T>): Promise<T> {
  const config = await configFromFlags(flags);
  const { openStore } = await import('../../store/env.ts');
  try {
    return await withDataDirLock(config.dataDir, command, async () => {
      const store = openStore({ path: config.storePath });
      const bus = new Bus({ log: new EventLog(store), envId: config.XYN_ENV_ID });
      const user = whoAmI();
      const audit: Audit = async (operation, details) => {
        await publishAudit(bus, { user, role: 'admiral', operation, details: { ...details, via: 'cli' } });
      };
      try {
        return await fn(await fileStore(flags), audit);
      } finally {
        await bus.close();
        await store.close();
      }
    });
  } catch (err) {
    if (err instanceof DataDirLockedError && err.url) throw new DataDirLockedError(err.path, err, `change its secrets through it, with --url ${err.url} --token <an admiral's token>`);
    throw err;
  }
}

/** The data dir's secrets file, opened with XYN_SECRETS_KEY. */
async function fileStore(flags: NodeFlags): Promise<FileSecretStore> {
  const config = await configFromFlags(flags);
  return new FileSecretStore(config.secretsFile, config.XYN_SECRETS_KEY);
}

/** The OS user running the command (audited as who made the change). */
function whoAmI(): string {
  try {
    return userInfo().username;
  } catch {
    return 'local';
  }
}
