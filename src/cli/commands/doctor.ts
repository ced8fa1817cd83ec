/**
 * `xyn doctor`: the effective configuration (where each value came from,
 * secrets masked) and preflight checks (data dir writable and not held by
 * another process, port free, ...), each failing one with its fix.
 * Exit 0 when nothing blocks a start, 1 when something does, 2 for a bad config.
 */
import type { Command } from 'commander';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { SECRET_KEYS, nativeHashing, type Config } from '../../kernel/index.ts';
import { dataDirHolder } from '../../store/index.ts';
import { configFromFlags, withDataFlag, type NodeFlags } from '../config-flags.ts';

export interface Check {
  name: string;
  ok: boolean;
  /** Blocking checks stop a node from starting; the others are advice. */
  blocking: boolean;
  detail: string;
  fix?: string;
}

export function registerDoctor(program: Command): void {
  withDataFlag(program.command('doctor'))
    .description('print the effective config and what is missing, with the fix')
    .option('--host <host>', 'address serve would bind')
    .option('--port <port>', 'port serve would bind')
    .option('--json', 'machine-readable output')
    .action(async (flags: NodeFlags & { json?: boolean }) => {
      const config = await configFromFlags(flags);
      const checks = await runChecks(config);
      if (flags.json) {
        process.stdout.write(JSON.stringify({ config: maskedConfig(config), checks }, null, 2) + '\n');
      } else {
        process.stdout.write(renderText(config, checks));
      }
      process.exitCode = checks.some((c) => c.blocking && !c.ok) ? 1 : 0;
    });
}

export function maskedConfig(config: Config): Record<string, { value: unknown; source: string }> {
  const out: Record<string, { value: unknown; source: string }> = {};
  for (const [key, source] of Object.entries(config.sources)) {
    const value = config[key as keyof Config];
    out[key] = { value: SECRET_KEYS.has(key as never) && value ? '***' : (value ?? null), source };
  }
  out.dataDir = { value: config.dataDir, source: 'derived' };
  out.storePath = { value: config.storePath, source: 'derived' };
  out.artifactsDir = { value: config.artifactsDir, source: 'derived' };
  return out;
}

export async function runChecks(config: Config): Promise<Check[]> {
  const checks: Check[] = [writable('data dir', config.dataDir), writable('store', config.storePath), await dataDirFree(config.dataDir)];
  checks.push(await portFree(config.XYN_HOST, config.XYN_PORT));
  const cores = availableParallelism();
  checks.push({
    name: 'workers',
    ok: config.XYN_WORKERS <= cores,
    blocking: false,
    detail: `${config.XYN_WORKERS} shard-worker threads on ${cores} cores`,
    ...(config.XYN_WORKERS > cores ? { fix: `set XYN_WORKERS=${cores}: more threads than cores only adds contention` } : {}),
  });
  checks.push({
    name: 'native addon',
    ok: nativeHashing,
    blocking: false,
    detail: nativeHashing ? 'in use: hashing runs in C (build/Release/xyn_native.node)' : 'not in use: hashing runs in JavaScript (same results, slower)',
    ...(nativeHashing ? {} : { fix: process.env.XYN_NATIVE_HASHING === '0' ? 'unset XYN_NATIVE_HASHING (it is 0: the addon is turned off)' : 'install a C toolchain (apt-get install build-essential python3) and run npm rebuild in the xyn directory; build/native.log says why the last build failed' }),
  });
  for (const key of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY'] as const) {
    checks.push({
      name: key,
      ok: Boolean(config[key]),
      blocking: false,
      detail: config[key] ? 'set' : 'not set: agent tasks routed to this provider will fail',
      ...(config[key] ? {} : { fix: `export ${key}=... (and ${key.replace('API_KEY', 'BASE_URL')} for a compatible server)` }),
    });
  }
  return checks;
}

function writable(name: string, dir: string): Check {
  // The nearest existing ancestor must be writable for the directory to be created.
  let probe = dir;
  while (!existsSync(probe) && dirname(probe) !== probe) probe = dirname(probe);
  try {
    accessSync(probe, constants.W_OK);
    if (probe === dir) mkdirSync(dir, { recursive: true });
    return { name, ok: true, blocking: true, detail: existsSync(dir) ? `${dir} (writable)` : `${dir} (will be created)` };
  } catch {
    return { name, ok: false, blocking: true, detail: `${dir} is not writable`, fix: `choose another with --data DIR or XYN_DATA_DIR, or fix permissions on ${probe}` };
  }
}

/** One node per data dir: a start there is refused while another process holds it. */
async function dataDirFree(dataDir: string): Promise<Check> {
  const holder = await dataDirHolder(dataDir);
  if (!holder) return { name: 'data dir lock', ok: true, blocking: true, detail: `${dataDir} is not in use` };
  const who = holder.pid ? `pid ${holder.pid} (xyn ${holder.command ?? '?'}${holder.url ? ` on ${holder.url}` : ''})` : 'another process';
  return {
    name: 'data dir lock',
    ok: false,
    blocking: true,
    detail: `${dataDir} is in use by ${who}`,
    fix: holder.url ? `a node runs there: talk to it (--url ${holder.url}), or stop it first` : 'wait for it to end or stop it, or choose another --data DIR / XYN_DATA_DIR',
  };
}

function portFree(host: string, port: number): Promise<Check> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      resolve({
        name: 'port',
        ok: false,
        blocking: true,
        detail: `${host}:${port} cannot be bound (${err.code ?? err.message})`,
        fix: err.code === 'EADDRINUSE' ? `another process (a running xyn serve?) holds it: stop it or set XYN_PORT / --port` : `set XYN_HOST to an address of this machine`,
      }),
    );
    server.listen(port, host, () => server.close(() => resolve({ name: 'port', ok: true, blocking: true, detail: `${host}:${port} is free` })));
  });
}

function renderText(config: Config, checks: Check[]): string {
  const lines = ['Effective configuration (source in brackets):'];
  for (const [key, { value, source }] of Object.entries(maskedConfig(config))) {
    lines.push(`  ${key.padEnd(32)} ${String(value ?? '(unset)')} [${source}]`);
  }
  lines.push('', 'Checks:');
  for (const c of checks) {
    lines.push(`  ${c.ok ? 'ok  ' : c.blocking ? 'FAIL' : 'warn'} ${c.name}: ${c.detail}`);
    if (!c.ok && c.fix) lines.push(`       fix: ${c.fix}`);
  }
  const blocking = checks.filter((c) => c.blocking && !c.ok).length;
  lines.push('', blocking ? `${blocking} problem(s) block a start.` : 'Nothing blocks a start.', '');
  return lines.join('\n');
}
