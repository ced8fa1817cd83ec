/**
 * A job kind written in TypeScript, run by the built `xyn` (bin/xyn.js, no
 * tsx: what `npm start` and users run): its partitioner loads on the main
 * thread, its executor in the pool threads, and a `.ts` file it imports by
 * its `.js` name (TypeScript's convention) loads too. Edit that imported file
 * and the same plan file is a new plan (the module's tag covers it).
 * `npm test` builds before it tests; the build is what runs here.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { PlanReport } from '../../src/hxo/report.ts';
import { tempDir } from '../kernel/helpers.ts';
import { REPO_ROOT, cliEnv } from '../helpers/cli.ts';

const dir = tempDir();
afterAll(() => dir.cleanup());

const built = (args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'xyn.js'), ...args], { cwd: dir.path, env: cliEnv(), encoding: 'utf8', timeout: 60_000 });

function writeKind(factor: number): void {
  mkdirSync(join(dir.path, 'kinds'), { recursive: true });
  // Type-only syntax throughout: an interface, annotations, an `as`, a `satisfies`, a type import.
  writeFileSync(join(dir.path, 'kinds', 'scale.ts'), `export interface Scaled { n: number; scaled: number }\nexport const FACTOR: number = ${factor};\n`);
  writeFileSync(
    join(dir.path, 'kinds', 'kind.ts'),
    [
      `import { FACTOR, type Scaled } from './scale.js';`,
      `interface Input { n: number }`,
      `export const kind = 'test.ts_scaled';`,
      `export const partitioners = { by_count: (config: { count?: number }): Input[] => Array.from({ length: config.count ?? 10 }, (_, n) => ({ n }) as Input) };`,
      `export const executors = { scale: (input: Input) => ({ n: input.n, scaled: input.n * FACTOR }) satisfies Scaled };`,
      '',
    ].join('\n'),
  );
}

it('runs in a built node, on the main thread and in the pool, imports by .js name, and an edit makes a new plan', () => {
  writeKind(3);
  writeFileSync(join(dir.path, 'plan.yaml'), 'name: ts-kind\nmodules: [./kinds/kind.ts]\nstages:\n  - id: scale\n    kind: test.ts_scaled\n    config: { count: 200 }\n');
  const first = built(['run', 'plan.yaml', '--data', 'data', '--json']);
  expect(first.status, first.stderr).toBe(0);
  const report = JSON.parse(first.stdout) as PlanReport;
  expect(report).toMatchObject({ state: 'certified', truth_certified: true, done_shards: 200, failed_shards: 0 });
  const outputs = built(['outputs', report.plan_id, '--data', 'data']);
  expect(outputs.status, outputs.stderr).toBe(0);
  const rows = outputs.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { output: { n: number; scaled: number } });
  expect(rows).toHaveLength(200);
  for (const { output } of rows) expect(output.scaled).toBe(output.n * 3);

  writeKind(5);
  const second = built(['run', 'plan.yaml', '--data', 'data', '--json']);
  expect(second.status, second.stderr).toBe(0);
  const edited = JSON.parse(second.stdout) as PlanReport;
  expect(edited.plan_id).not.toBe(report.plan_id);
  expect(edited.merkle_root).not.toBe(report.merkle_root);
}, 120_000);
