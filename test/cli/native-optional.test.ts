/**
 * The native addon is optional: `npm install` on a machine without a C
 * toolchain still succeeds (its install script says once that the
 * JavaScript fallback is in use, and why), nothing half-built is left for
 * the loader, and `xyn doctor` tells which hashing path a node uses.
 *
 * The install script runs here through npm, as `npm install` runs it, on a
 * copy of the addon's sources, with the C compiler hidden (CC and CXX point
 * at nothing): the repository's own build is left alone.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { tempDir } from '../kernel/helpers.ts';
import { REPO_ROOT, xynSync } from '../helpers/cli.ts';

it('npm install without a C compiler: exit 0, one line naming the fallback and why, no addon left, the log kept', () => {
  const dir = tempDir();
  try {
    for (const part of ['binding.gyp', 'native', 'scripts']) cpSync(join(REPO_ROOT, part), join(dir.path, part), { recursive: true });
    writeFileSync(join(dir.path, 'package.json'), JSON.stringify({ name: 'native-probe', version: '1.0.0', scripts: { install: 'node scripts/build-native.mjs' } }));
    const out = execFileSync('npm', ['run', '-s', 'install'], { cwd: dir.path, env: { ...process.env, CC: '/nonexistent/cc', CXX: '/nonexistent/c++' }, encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual([expect.stringMatching(/^xyn: native addon not built \(no C toolchain: make or a C compiler is missing\); using the JavaScript fallback .* Details: build\/native\.log$/)]);
    expect(existsSync(join(dir.path, 'build', 'Release', 'xyn_native.node'))).toBe(false);
    expect(readFileSync(join(dir.path, 'build', 'native.log'), 'utf8')).toMatch(/\/nonexistent\/cc/);
  } finally {
    dir.cleanup();
  }
}, 120_000);

it('xyn doctor says which hashing path is in use, as advice (never blocking)', () => {
  const dir = tempDir();
  try {
    const checks = (env: Record<string, string>) => (JSON.parse(xynSync(['doctor', '--data', join(dir.path, 'data'), '--port', '0', '--json'], env).stdout) as { checks: { name: string; ok: boolean; blocking: boolean; detail: string }[] }).checks;
    const off = checks({ XYN_NATIVE_HASHING: '0' }).find((c) => c.name === 'native addon');
    expect(off).toMatchObject({ ok: false, blocking: false, detail: expect.stringMatching(/hashing runs in JavaScript/) });
    const built = existsSync(join(REPO_ROOT, 'build', 'Release', 'xyn_native.node'));
    expect(checks({}).find((c) => c.name === 'native addon')).toMatchObject({ ok: built, blocking: false });
  } finally {
    dir.cleanup();
  }
});
