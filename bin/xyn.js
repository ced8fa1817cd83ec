#!/usr/bin/env node
// The `xyn` command: runs the built CLI (npm install builds it via `prepare`).
import { existsSync, readFileSync } from 'node:fs';

// `xyn --version` answers before any of the CLI loads.
if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
  process.exit(0);
}
const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('xyn: the CLI is not built yet; run `npm install` (or `npm run build`) in the xyn directory first');
  process.exit(2);
}
await import(main.href);
