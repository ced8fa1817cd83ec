/**
 * Where a data dir's parts are (DESIGN.md §7): the data dir, its LMDB store,
 * its artifacts, its encrypted secrets. Apart from the validated config (config.ts) so that a
 * command that only reads the store (`xyn status`) can find it without
 * loading the config's schemas.
 */
import { resolve } from 'node:path';

export interface DataPaths {
  /** Absolute data directory (XYN_DATA_DIR). */
  dataDir: string;
  /** Absolute LMDB environment directory (HXO_DB_PATH or DATA_DIR/store). */
  storePath: string;
  /** Absolute artifacts directory (HXO_ARTIFACTS_DIR or DATA_DIR/artifacts). */
  artifactsDir: string;
  /** The encrypted secrets file (DATA_DIR/secrets.enc; src/xyn/secrets/file-store.ts). */
  secretsFile: string;
}

export function dataPaths(values: { XYN_DATA_DIR: string; HXO_DB_PATH?: string | undefined; HXO_ARTIFACTS_DIR?: string | undefined }, cwd: string): DataPaths {
  const dataDir = resolve(cwd, values.XYN_DATA_DIR);
  return {
    dataDir,
    storePath: values.HXO_DB_PATH ? resolve(cwd, values.HXO_DB_PATH) : resolve(dataDir, 'store'),
    artifactsDir: values.HXO_ARTIFACTS_DIR ? resolve(cwd, values.HXO_ARTIFACTS_DIR) : resolve(dataDir, 'artifacts'),
    secretsFile: resolve(dataDir, 'secrets.enc'),
  };
}
