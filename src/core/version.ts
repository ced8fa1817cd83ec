/** The package version, read from package.json (two levels up in source, three in dist/). */
import { existsSync, readFileSync } from 'node:fs';

const packageJson = ['../../package.json', '../../../package.json']
  .map((rel) => new URL(rel, import.meta.url))
  .find((url) => existsSync(url));
if (!packageJson) throw new Error('package.json not found next to the xyn CLI');

export const VERSION = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
