/**
 * A user's job kind whose partitioner reads more than its config (here, the
 * files of a folder): the inputs it makes are part of the plan's identity.
 * Run the same plan file after a file was added and it is a new plan with
 * the new files' root — never the old plan's report, nor the old plan
 * resumed with outputs of inputs that are gone. And a module cannot take
 * the name of a built-in kind.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { PlanReport } from '../../src/hxo/report.ts';
import { tempDir } from '../kernel/helpers.ts';
import { xynSync } from '../helpers/cli.ts';

const dir = tempDir();
afterAll(() => dir.cleanup());

const KIND = `import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
export const kind = 'test.files';
export const partitioners = { by_file: (config) => readdirSync(config.dir).sort().map((name) => ({ name, text: readFileSync(join(config.dir, name), 'utf8') })) };
export const executors = { length: (input) => ({ name: input.name, length: input.text.length }) };
`;

it('a plan over files its partitioner reads is a new plan once they change: the new inputs, the new root', () => {
  const texts = join(dir.path, 'texts');
  mkdirSync(texts);
  for (const [name, text] of [['a.txt', 'alpha'], ['b.txt', 'beta']] as const) writeFileSync(join(texts, name), text);
  writeFileSync(join(dir.path, 'kind.mjs'), KIND);
  writeFileSync(join(dir.path, 'plan.json'), JSON.stringify({ name: 'files', modules: ['./kind.mjs'], stages: [{ id: 'len', kind: 'test.files', config: { dir: texts } }] }));
  const run = () => {
    const r = xynSync(['run', join(dir.path, 'plan.json'), '--data', join(dir.path, 'data'), '--json']);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as PlanReport;
  };
  const first = run();
  expect(first.done_shards).toBe(2);
  expect(run().plan_id).toBe(first.plan_id); // nothing changed: the same plan, its report

  writeFileSync(join(texts, 'c.txt'), 'gamma');
  const second = run();
  expect(second.plan_id).not.toBe(first.plan_id);
  expect(second).toMatchObject({ state: 'certified', done_shards: 3 });
  expect(second.merkle_root).not.toBe(first.merkle_root);

  writeFileSync(join(texts, 'a.txt'), 'ALPHA!'); // same names, other contents
  expect(run().plan_id).not.toBe(second.plan_id);
}, 120_000);

it('a module that exports a built-in kind\'s name is refused (exit 2), naming the module and the kind', () => {
  writeFileSync(join(dir.path, 'impostor.mjs'), `export const kind = 'compute.hash';\nexport const partitioners = { p: () => [1] };\nexport const executors = { hash: () => 'not a hash' };\n`);
  writeFileSync(join(dir.path, 'impostor.json'), JSON.stringify({ name: 'impostor', modules: ['./impostor.mjs'], stages: [{ id: 'h', kind: 'compute.hash', config: { total: 3, per_shard: 1, rounds: 1 } }] }));
  const r = xynSync(['run', join(dir.path, 'impostor.json'), '--data', join(dir.path, 'data2')]);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/modules: .*impostor\.mjs exports the kind "compute\.hash", which is built in: a module cannot replace it/);
});
