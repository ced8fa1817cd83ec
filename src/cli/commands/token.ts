/**
 * `xyn token create --role ROLE [--principal NAME]` prints only the new token
 * on stdout (shown once: the data dir keeps its hash); `xyn token revoke ID`;
 * `xyn token list` (ids, principals, roles — never tokens).
 */
import type { Command } from 'commander';
import { ValidationError } from '../../kernel/index.ts';
import { openStore } from '../../store/index.ts';
import { ROLES, TokenStore, type Role } from '../../api/auth.ts';
import { configFromFlags, withDataFlag, type NodeFlags } from '../config-flags.ts';

export function registerToken(program: Command): void {
  const token = program.command('token').description("the node's API tokens (kept hashed in the data dir)");

  withDataFlag(token.command('create'))
    .description('make a token and print it (only it) on stdout')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--principal <name>', 'who it is for (default: the role)')
    .action(async (flags: NodeFlags & { role: string; principal?: string }) => {
      if (!(ROLES as readonly string[]).includes(flags.role)) throw new ValidationError(`--role must be one of ${ROLES.join(', ')}, got ${flags.role}`, '--role');
      const principal = flags.principal ?? flags.role;
      if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(principal)) throw new ValidationError(`--principal must be 1-64 letters, digits, _ . @ -`, '--principal');
      await withTokens(flags, async (tokens) => {
        const { token: made } = await tokens.create(principal, flags.role as Role);
        process.stdout.write(`${made}\n`);
      });
    });

  withDataFlag(token.command('revoke'))
    .argument('<token_id>', 'as `xyn token list` shows it')
    .description('revoke a token at once (requests with it get 401)')
    .action(async (tokenId: string, flags: NodeFlags) => {
      await withTokens(flags, async (tokens) => {
        const revoked = await tokens.revoke(tokenId);
        if (!revoked) throw new ValidationError(`no live token with id ${tokenId}`, 'token_id');
        process.stderr.write(`xyn: revoked ${tokenId} (${revoked.principal}, ${revoked.role})\n`);
      });
    });

  withDataFlag(token.command('list'))
    .description('every token: id, principal, role, made, revoked (never the token)')
    .action(async (flags: NodeFlags) => {
      await withTokens(flags, (tokens) => {
        for (const t of tokens.list()) process.stdout.write(JSON.stringify(t) + '\n');
      });
    });
}

async function withTokens(flags: NodeFlags, fn: (tokens: TokenStore) => void | Promise<void>): Promise<void> {
  const config = configFromFlags(flags);
  const store = openStore({ path: config.storePath });
  try {
    await fn(new TokenStore(store));
  } finally {
    await store.close();
  }
}
