/**
 * `xyn token create --role ROLE [--principal NAME]` prints only the new token
 * on stdout (shown once: the data dir keeps its hash); `xyn token revoke ID`;
 * `xyn token list` (ids, principals, roles — never tokens).
 *
 * With `--url` (and an admiral's `--token`) they go through a running node's
 * API. Without, `create` and `revoke` take the data dir's lock for their
 * write — refused while a node holds it: then its API is the way (it owns the
 * event log the change is audited in). `list` only reads.
 * Either way each change is recorded on `hxo.audit`.
 */
import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { ValidationError } from '../../kernel/index.ts';
import { Bus } from '../../kernel/bus.ts';
import { publishAudit } from '../../kernel/audit.ts';
import { EventLog } from '../../store/event-log.ts';
import { DataDirLockedError, withDataDirLock } from '../../store/index.ts';
import { ROLES, TokenStore, type Role, type TokenRecord } from '../../api/auth.ts';
import { configFromFlags, withDataFlag, withStore, type NodeFlags } from '../config-flags.ts';
import { callApi, type RemoteFlags } from '../api-client.ts';

type Flags = NodeFlags & RemoteFlags;

export function registerToken(program: Command): void {
  const token = program.command('token').description("the node's API tokens (kept hashed in the data dir)");

  withFlags(token.command('create'))
    .description('make a token and print it (only it) on stdout')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--principal <name>', 'who it is for (default: the role)')
    .action(async (flags: Flags & { role: string; principal?: string }) => {
      if (!(ROLES as readonly string[]).includes(flags.role)) throw new ValidationError(`--role must be one of ${ROLES.join(', ')}, got ${flags.role}`, '--role');
      const principal = flags.principal ?? flags.role;
      if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(principal)) throw new ValidationError(`--principal must be 1-64 letters, digits, _ . @ -`, '--principal');
      if (flags.url) {
        const made = await callApi<{ token: string }>(flags, 'POST', '/api/v1/tokens', { role: flags.role, principal });
        process.stdout.write(`${made.token}\n`);
        return;
      }
      await offline(flags, 'token create', async (tokens, audit) => {
        const { token: made, record } = await tokens.create(principal, flags.role as Role);
        await audit('token.create', record);
        process.stdout.write(`${made}\n`);
      });
    });

  withFlags(token.command('revoke'))
    .argument('<token_id>', 'as `xyn token list` shows it')
    .description('revoke a token at once (requests with it get 401)')
    .action(async (tokenId: string, flags: Flags) => {
      const revoked = flags.url
        ? await callApi<TokenRecord>(flags, 'POST', `/api/v1/tokens/${encodeURIComponent(tokenId)}/revoke`, {})
        : await offline(flags, 'token revoke', async (tokens, audit) => {
            const record = await tokens.revoke(tokenId);
            if (!record) throw new ValidationError(`no live token with id ${tokenId}`, 'token_id');
            await audit('token.revoke', record);
            return record;
          });
      process.stderr.write(`xyn: revoked ${tokenId} (${revoked.principal}, ${revoked.role})\n`);
    });

  withFlags(token.command('list'))
    .description('every token: id, principal, role, made, revoked (never the token)')
    .action(async (flags: Flags) => {
      const list = flags.url ? (await callApi<{ items: TokenRecord[] }>(flags, 'GET', '/api/v1/tokens')).items : await withStore(flags, (store) => new TokenStore(store).list());
      for (const t of list) process.stdout.write(JSON.stringify(t) + '\n');
    });
}

function withFlags(cmd: Command): Command {
  return withDataFlag(cmd).option('--url <url>', "a running node's API (then --token: an admiral's)").option('--token <token>', 'API token (XYN_TOKEN)');
}

type Audit = (operation: string, record: TokenRecord) => Promise<void>;

/**
 * Changes tokens in the data dir itself, holding its lock for the change (no
 * node can start on it meanwhile), auditing each change in its event log.
 * While a node holds it, the refusal points at the node's API.
 */
async function offline<T>(flags: Flags, command: string, fn: (tokens: TokenStore, audit: Audit) => Promise<T>): Promise<T> {
  const config = await configFromFlags(flags);
  try {
    return await withDataDirLock(config.dataDir, command, () =>
      withStore(flags, async (store) => {
        const bus = new Bus({ log: new EventLog(store), envId: config.XYN_ENV_ID });
        const user = whoAmI();
        const audit: Audit = async (operation, record) => {
          await publishAudit(bus, { user, role: 'admiral', operation, details: { token_id: record.token_id, principal: record.principal, role: record.role, via: 'cli' } });
        };
        try {
          return await fn(new TokenStore(store), audit);
        } finally {
          await bus.close();
        }
      }),
    );
  } catch (err) {
    if (err instanceof DataDirLockedError && err.url) throw new DataDirLockedError(err.path, err, `change its tokens through it, with --url ${err.url} --token <an admiral's token>`);
    throw err;
  }
}

/** The OS user running the command (audited as who made the change). */
function whoAmI(): string {
  try {
    return userInfo().username;
  } catch {
    return 'local';
  }
}
