#!/usr/bin/env node
// `npm install` runs this (package.json "install"): it builds xyn's native
// addon (native/: SHA-256 and the leaf hashing of the hot path, in C) with
// node-gyp when it can. The addon is optional — every use of it has a
// JavaScript fallback with the same results — so a machine without a C
// toolchain, or without Node's headers at hand, still installs: this says
// once which path is in use, keeps node-gyp's output in build/native.log,
// and exits 0. `xyn doctor` says the same later.
//
//   node scripts/build-native.mjs [DIR]   // DIR: where binding.gyp is (default: the package root)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const addon = join(root, 'build', 'Release', 'xyn_native.node');
// npm gives its own node-gyp to install scripts; outside npm, the one npm ships beside this node, or the one on PATH.
const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = process.env.npm_config_node_gyp ?? (existsSync(bundled) ? bundled : undefined);
const [command, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];

const run = spawnSync(command, args, { cwd: root, encoding: 'utf8', env: process.env });
const output = `${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? String(run.error) : ''}`;
mkdirSync(join(root, 'build'), { recursive: true });
writeFileSync(join(root, 'build', 'native.log'), output);

if (run.status === 0 && existsSync(addon)) {
  console.log('xyn: native addon built (build/Release/xyn_native.node): hashing runs in C');
} else {
  // A half-built addon must not be loaded: nothing is left for the loader to find.
  rmSync(join(root, 'build', 'Release'), { recursive: true, force: true });
  const reason = why(output, run);
  console.log(`xyn: native addon not built (${reason}); using the JavaScript fallback — same results, slower hashing. For the C path: install a C toolchain (apt-get install build-essential python3) and run npm rebuild. Details: build/native.log`);
}

function why(text, result) {
  if (result.error?.code === 'ENOENT') return 'node-gyp not found';
  if (/not found: (make|cc|gcc|g\+\+)|gyp ERR! stack Error: not found|No such file or directory: '[^']*\b(cc|gcc|c\+\+|g\+\+|clang)'|(cc|gcc|make): (command )?not found/.test(text)) return 'no C toolchain: make or a C compiler is missing';
  if (/network connectivity|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|getaddrinfo/.test(text)) return "Node's headers could not be fetched";
  if (/Could not find any Python/.test(text)) return 'no Python for node-gyp';
  return `node-gyp exited with ${result.status ?? result.signal}`;
}
