/**
 * The package as a user gets it: `npm pack`, then `npm install` of the
 * tarball in a project of its own outside this repository. Its job kind, in
 * TypeScript, imports `defineJobKind` and `NonRetryableError` from 'xyn'
 * (package.json `exports`), type-checks against the package's declarations,
 * and runs in a plan through the installed `xyn` command; a client program
 * type-checks against 'xyn/client' and runs.
 *
 * `npm test` builds before it tests; the pack takes that build as it is
 * (--ignore-scripts: no second build under the other test files' feet).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { PlanReport } from '../../src/hxo/report.ts';
import { tempDir } from '../kernel/helpers.ts';
import { REPO_ROOT, cliEnv } from '../helpers/cli.ts';

const dir = tempDir();
afterAll(() => dir.cleanup());

const KIND = `import { defineJobKind, NonRetryableError, type ShardContext } from 'xyn';

interface Item { n: number }

export default defineJobKind<{ count: number }, Item, { n: number; cents: number }>({
  kind: 'shop.price',
  partitioners: { by_count: (config) => Array.from({ length: config.count }, (_, n) => ({ n })) },
  executors: {
    price: (input: Item, _config, shard: ShardContext) => {
      if (input.n === 7) throw new NonRetryableError(\`item \${input.n} has no price\`, 'NO_PRICE');
      return { n: input.n, cents: input.n * 100 + shard.inputBytes().length * 0 };
    },
  },
});
`;

// A client program: typed against 'xyn/client' (type-checked with the kind), and run below.
const CLIENT = `import { NodeUnreachableError, XynClient, type PlanStatus } from 'xyn/client';

export async function stateOf(url: string, planId: string): Promise<PlanStatus['state'] | 'unreachable'> {
  try {
    return (await new XynClient({ url }).status(planId)).state;
  } catch (err) {
    if (err instanceof NodeUnreachableError) return 'unreachable';
    throw err;
  }
}
`;

it('npm pack + install elsewhere: a TypeScript job kind importing from "xyn" type-checks and runs in a plan', () => {
  const tarballs = join(dir.path, 'pack');
  mkdirSync(tarballs);
  execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', tarballs], { cwd: REPO_ROOT, stdio: 'pipe' });
  const [tarball] = readdirSync(tarballs);
  const project = join(dir.path, 'user');
  mkdirSync(join(project, 'kinds'), { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-kinds', version: '1.0.0', private: true, type: 'module' }));
  execFileSync('npm', ['install', join(tarballs, tarball as string), '--prefer-offline', '--no-audit', '--no-fund'], { cwd: project, stdio: 'pipe', timeout: 240_000 });

  writeFileSync(join(project, 'kinds', 'price.ts'), KIND);
  writeFileSync(join(project, 'kinds', 'client.ts'), CLIENT);
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: [] }, include: ['kinds'] }));
  const tsc = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { encoding: 'utf8' });
  expect(tsc.status, tsc.stdout).toBe(0);
  // A kind that breaks the types is refused by them: the declarations are really read.
  writeFileSync(join(project, 'kinds', 'wrong.ts'), `import { defineJobKind } from 'xyn';\nexport default defineJobKind<{ count: number }, { n: number }, number>({ kind: 'shop.wrong', partitioners: { p: (c) => [c.count] }, executors: {} });\n`);
  expect(spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { encoding: 'utf8' }).stdout).toMatch(/wrong\.ts.*not assignable to type 'Partitioner/);

  writeFileSync(join(project, 'plan.yaml'), 'name: price\nmodules: [./kinds/price.ts]\nstages:\n  - id: price\n    kind: shop.price\n    retries: 2\n    config: { count: 10 }\n');
  const run = spawnSync(process.execPath, [join(project, 'node_modules', 'xyn', 'bin', 'xyn.js'), 'run', 'plan.yaml', '--data', 'data', '--json'], { cwd: project, env: cliEnv(), encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(1); // one shard failed: not certified
  const report = JSON.parse(run.stdout) as PlanReport;
  expect(report).toMatchObject({ state: 'failed', done_shards: 9, failed_shards: 1 });
  expect(report.failed).toEqual([expect.objectContaining({ shard_index: 7, error: 'item 7 has no price', error_class: 'NonRetryableError', error_code: 'NO_PRICE', attempts: 1 })]);

  // 'xyn/client' from the installed package: no node on port 1 is NodeUnreachableError, as its type says.
  const client = spawnSync(process.execPath, ['--input-type=module', '-e', "import { XynClient, NodeUnreachableError } from 'xyn/client'; new XynClient({ url: 'http://127.0.0.1:1' }).status('p').catch((e) => console.log(e instanceof NodeUnreachableError, e.code));"], { cwd: project, encoding: 'utf8' });
  expect(client.stdout.trim(), client.stderr).toBe('true NODE_UNREACHABLE');
}, 300_000);
