/**
 * The flags every node-facing command shares, mapped onto config variables.
 * The config (and its schemas) is loaded when a command asks for it, not
 * when the CLI starts.
 */
import type { Command } from 'commander';
import type { Config } from '../kernel/config.ts';
import type { Store } from '../store/env.ts';
import { dataPaths, type DataPaths } from '../kernel/data-paths.ts';

export interface NodeFlags {
  data?: string;
  host?: string;
  port?: string;
}

export function withDataFlag(cmd: Command): Command {
  return cmd.option('--data <dir>', 'data directory (XYN_DATA_DIR, default ./.xyn)');
}

/** The effective config: flags over env over XYN_CONFIG file over defaults. */
export async function configFromFlags(flags: NodeFlags): Promise<Config> {
  const { loadConfig } = await import('../kernel/config.ts');
  return loadConfig({
    overrides: {
      ...(flags.data !== undefined ? { XYN_DATA_DIR: flags.data } : {}),
      ...(flags.host !== undefined ? { XYN_HOST: flags.host } : {}),
      ...(flags.port !== undefined ? { XYN_PORT: flags.port } : {}),
    },
  });
}

/**
 * The data dir's paths, for commands that only read the store or look for
 * its node: from the flags and environment alone, unless a config file
 * (XYN_CONFIG) may say otherwise.
 */
export async function pathsFromFlags(flags: NodeFlags): Promise<DataPaths> {
  const env = process.env;
  if (env.XYN_CONFIG) return configFromFlags(flags);
  return dataPaths({ XYN_DATA_DIR: flags.data ?? env.XYN_DATA_DIR ?? './.xyn', HXO_DB_PATH: env.HXO_DB_PATH, HXO_ARTIFACTS_DIR: env.HXO_ARTIFACTS_DIR }, process.cwd());
}

export async function storePathFromFlags(flags: NodeFlags): Promise<string> {
  return (await pathsFromFlags(flags)).storePath;
}

/** Runs `fn` on the data dir's store (no node started) and closes it after. */
export async function withStore<T>(flags: NodeFlags, fn: (store: Store, config: Config) => T | Promise<T>): Promise<T> {
  const config = await configFromFlags(flags);
  const { openStore } = await import('../store/env.ts');
  const store = openStore({ path: config.storePath });
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}
