/** The flags every node-facing command shares, mapped onto config variables. */
import type { Command } from 'commander';
import { loadConfig, type Config } from '../kernel/index.ts';
import { openStore, type Store } from '../store/index.ts';

export interface NodeFlags {
  data?: string;
  host?: string;
  port?: string;
}

export function withDataFlag(cmd: Command): Command {
  return cmd.option('--data <dir>', 'data directory (XYN_DATA_DIR, default ./.xyn)');
}

/** The effective config: flags over env over XYN_CONFIG file over defaults. */
export function configFromFlags(flags: NodeFlags): Config {
  return loadConfig({
    overrides: {
      ...(flags.data !== undefined ? { XYN_DATA_DIR: flags.data } : {}),
      ...(flags.host !== undefined ? { XYN_HOST: flags.host } : {}),
      ...(flags.port !== undefined ? { XYN_PORT: flags.port } : {}),
    },
  });
}

/** Runs `fn` on the data dir's store (no node started) and closes it after. */
export async function withStore<T>(flags: NodeFlags, fn: (store: Store, config: Config) => T | Promise<T>): Promise<T> {
  const config = configFromFlags(flags);
  const store = openStore({ path: config.storePath });
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}
