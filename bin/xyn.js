#!/usr/bin/env node
// The `xyn` command: runs the built CLI (npm install builds it via `prepare`).
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('xyn: the CLI is not built yet; run `npm install` (or `npm run build`) in the xyn directory first');
  process.exit(2);
}
await import(main.href);
