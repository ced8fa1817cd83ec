/**
 * Memoization is sound: an output is reused only under the same executor
 * identity (code) and config. A user's job kind in a temp folder is run, its
 * executor or a file it imports edited, and run again — in one long-running
 * node (the edited module must be loaded afresh, in every thread) and in
 * fresh `xyn run` processes (the same plan file gets a new plan id, not the
 * old report). Outputs are checked against what the code on disk computes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PlanReport } from '../../src/hxo/report.ts';
import { verifyReport } from '../../src/hxo/certify/verify-report.ts';
import { CheckpointFormatError } from '../../src/hxo/engine-errors.ts';
import { BlockKeys, checkpointDb, writeCheckpoints } from '../../src/hxo/checkpoints/checkpoint-records.ts';
import type { PlanRecord } from '../../src/hxo/checkpoints/plan-records.ts';
import { openStore } from '../../src/store/env.ts';
import { ModuleChangedError, checkModuleTag, moduleTag, relativeImports, taggedModuleUrl } from '../../src/hxo/plan/module-tags.ts';
import { merkleRoot } from '../../src/hxo/certify/merkle.ts';
import { tempDir } from '../kernel/helpers.ts';
import { loadConfig } from '../../src/kernel/config.ts';
import { createLogger } from '../../src/kernel/log.ts';
import { startKernel } from '../../src/kernel/kernel.ts';
import { HxoEngine } from '../../src/hxo/engine.ts';
import { HXO_POOL_TASKS } from '../../src/hxo/pool-tasks.ts';
import { xynSync } from '../helpers/cli.ts';
import { runForOutputs, specCasId, specLeaf, startNode, type TestNode } from './helpers.ts';

const dirs: { cleanup: () => void }[] = [];
const nodes: TestNode[] = [];
afterAll(async () => {
  for (const n of nodes.splice(0)) await n.close();
  for (const d of dirs.splice(0)) d.cleanup();
});

const COUNT = 300;

/**
 * A job kind `test.scaled` in its own folder: shard i → {i, value: i * factor + offset},
 * `factor` from scale.mjs (imported), `offset` in the module itself.
 */
function writeKind(folder: string, { offset = 0, factor = 1, version, name = 'kind.mjs' }: { offset?: number; factor?: number; version?: string; name?: string } = {}): string {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'scale.mjs'), `export const factor = ${factor};\n`);
  writeFileSync(
    join(folder, name),
    [
      `import { factor } from './scale.mjs';`,
      `export const kind = 'test.scaled';`,
      ...(version ? [`export const version = ${JSON.stringify(version)};`] : []),
      `export const partitioners = { by_count: { count: (c) => c.count, *shards(c) { for (let i = 0; i < c.count; i++) yield { i }; } } };`,
      `export const executors = { scale: (input) => ({ i: input.i, value: input.i * factor + ${offset} }) };`,
      '',
    ].join('\n'),
  );
  return join(folder, name);
}

function plan(name: string, module: string): Record<string, unknown> {
  return { name, modules: [module], stages: [{ id: 'scale', kind: 'test.scaled', partitioner: 'by_count', executor: 'scale', config: { count: COUNT } }] };
}

/** The root the spec gives for outputs {i, value: i * factor + offset}. */
function specRoot(factor: number, offset: number): string {
  const leaves = new Uint8Array(COUNT * 32);
  for (let i = 0; i < COUNT; i++) leaves.set(specLeaf(specCasId('test.scaled', 'scale', { i }), { i, value: i * factor + offset }).leaf, i * 32);
  return merkleRoot(leaves).toString('hex');
}

const parse = (o: unknown) => o as { i: number; value: number };

async function node(): Promise<TestNode> {
  const n = await startNode();
  nodes.push(n);
  return n;
}

function folder(): string {
  const d = tempDir();
  dirs.push(d);
  return d.path;
}

describe('memoization in one node', () => {
  it('an unedited executor: everything reused under the same identity; edited (module or an imported file): nothing reused, new outputs', async () => {
    const n = await node();
    const dir = folder();
    const kind = writeKind(dir);

    const first = await runForOutputs(n, plan('first', kind), dir, parse);
    expect(first.report).toMatchObject({ state: 'certified', reused_shards: 0, merkle_root: specRoot(1, 0) });
    const identity = first.report.stages[0]?.executor_identity as string;
    expect(identity).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(first.report.stages[0]?.memo_source).toBeNull();

    // Unedited, another plan over the same shards: every output reused from the first.
    const again = await runForOutputs(n, plan('again', kind), dir, parse);
    expect(again.report).toMatchObject({ state: 'certified', reused_shards: COUNT, merkle_root: specRoot(1, 0) });
    expect(again.report.stages[0]).toMatchObject({ executor_identity: identity, memo_source: first.planId, reused_shards: COUNT });

    // The executor edited: a new identity, nothing reused, the new code's outputs (not the cached module's).
    writeKind(dir, { offset: 7 });
    const edited = await runForOutputs(n, plan('first', kind), dir, parse);
    expect(edited.planId).not.toBe(first.planId);
    expect(edited.report.stages[0]?.executor_identity).not.toBe(identity);
    expect(edited.report).toMatchObject({ state: 'certified', reused_shards: 0, merkle_root: specRoot(1, 7) });
    expect(edited.outputs.slice(0, 3)).toEqual([0, 1, 2].map((i) => ({ i, value: i + 7 })));
    expect(verifyReport(JSON.parse(JSON.stringify(edited.report))).ok).toBe(true);

    // Only a file it imports from its folder edited: the same.
    writeKind(dir, { offset: 7, factor: 3 });
    const imported = await runForOutputs(n, plan('first', kind), dir, parse);
    expect(imported.report).toMatchObject({ state: 'certified', reused_shards: 0, merkle_root: specRoot(3, 7) });
    expect(imported.outputs[5]).toEqual({ i: 5, value: 22 });
  }, 120_000);

  it('a module that declares `version` and keeps it is reused even when edited (its author promised); a new version is not', async () => {
    const n = await node();
    const dir = folder();
    const kind = writeKind(dir, { version: '1.0' });
    const first = await runForOutputs(n, plan('v1', kind), dir, parse);
    expect(first.report.stages[0]?.executor_identity).toBe('version:1.0');

    writeKind(dir, { version: '1.0', offset: 100 });
    const promised = await runForOutputs(n, plan('v1-again', kind), dir, parse);
    expect(promised.report).toMatchObject({ state: 'certified', reused_shards: COUNT, merkle_root: specRoot(1, 0) });

    writeKind(dir, { version: '2.0', offset: 100 });
    const bumped = await runForOutputs(n, plan('v2', kind), dir, parse);
    expect(bumped.report).toMatchObject({ state: 'certified', reused_shards: 0, merkle_root: specRoot(1, 100) });
  }, 120_000);

  it('`modules:` pointing at another module with the same kind and executor names reuses nothing', async () => {
    const n = await node();
    const a = writeKind(folder());
    const b = writeKind(folder(), { offset: 1 });
    const first = await runForOutputs(n, plan('from-a', a), folder(), parse);
    const other = await runForOutputs(n, plan('from-a', b), folder(), parse);
    expect(first.report.merkle_root).toBe(specRoot(1, 0));
    expect(other.report).toMatchObject({ state: 'certified', reused_shards: 0, merkle_root: specRoot(1, 1) });
  }, 120_000);

  it('memo off for one run (the CLI --no-memo): every shard runs, and its outputs are offered to later runs', async () => {
    const n = await node();
    const dir = folder();
    const kind = writeKind(dir);
    await runForOutputs(n, plan('one', kind), dir, parse);
    const submitted = await n.engine.submit(plan('two', kind), { baseDir: dir, memo: false });
    const two = await submitted.finished;
    expect(two).toMatchObject({ state: 'certified', reused_shards: 0, merkle_root: specRoot(1, 0) });
    expect(two.stages[0]?.memo_source).toBeNull();
    const three = await runForOutputs(n, plan('three', kind), dir, parse);
    expect(three.report.stages[0]).toMatchObject({ memo_source: submitted.planId, reused_shards: COUNT });
  }, 120_000);
});

describe('an unfinished plan whose code changed', () => {
  it('is not resumed by the next node (it ends aborted, saying why), and its plan runs anew with the new code', async () => {
    const dir = folder();
    const kind = writeKind(dir);
    const data = folder();
    const first = await startNode({}, data);
    const submitted = await first.engine.submit(plan('left-unfinished', kind), { baseDir: dir });
    expect((await submitted.finished).state).toBe('certified');
    // As a node killed mid-plan leaves it: no report, some checkpoints.
    const plans = first.kernel.store.db<string, PlanRecord>('plans');
    await first.kernel.store.write(() => {
      const { report: _report, ...record } = plans.get(submitted.planId) as PlanRecord;
      void plans.put(submitted.planId, { ...record, state: 'running' });
      writeCheckpoints(checkpointDb(first.kernel.store), new BlockKeys(submitted.planId, 0), [5, 6, 7], [undefined, undefined, undefined]);
    });
    await first.close();

    writeKind(dir, { offset: 9 });
    const second = await startNode({}, data);
    nodes.push(second);
    expect(await second.engine.start()).toEqual([]);
    const report = second.engine.report(submitted.planId);
    expect(report).toMatchObject({ state: 'aborted', truth_certified: false });
    expect(report.reason).toMatch(/code or input files changed since it started/);
    const anew = await runForOutputs(second, plan('left-unfinished', kind), dir, parse);
    expect(anew.planId).not.toBe(submitted.planId);
    expect(anew.report).toMatchObject({ state: 'certified', reused_shards: 0, merkle_root: specRoot(1, 9) });
  }, 120_000);
});

describe('memoization across `xyn run` processes', () => {
  it('the same plan file after its executor was edited is a new plan with the new root, not the old report', () => {
    const dir = folder();
    writeKind(dir);
    const planFile = join(dir, 'plan.json');
    writeFileSync(planFile, JSON.stringify(plan('scaled', './kind.mjs')));
    const data = join(dir, 'data');
    const run = (...extra: string[]): PlanReport => {
      const r = xynSync(['run', planFile, '--data', data, '--json', ...extra]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      return JSON.parse(r.stdout) as PlanReport;
    };
    const first = run();
    expect(first.merkle_root).toBe(specRoot(1, 0));
    expect(run().plan_id).toBe(first.plan_id);

    writeKind(dir, { offset: 2 });
    const edited = run();
    expect(edited.plan_id).not.toBe(first.plan_id);
    expect(edited).toMatchObject({ state: 'certified', reused_shards: 0, merkle_root: specRoot(1, 2) });

    // A copy of the plan under another name: everything reused (same code); with --no-memo, nothing.
    writeFileSync(planFile, JSON.stringify(plan('scaled-copy', './kind.mjs')));
    expect(run()).toMatchObject({ reused_shards: COUNT, merkle_root: specRoot(1, 2) });
    writeFileSync(planFile, JSON.stringify(plan('scaled-fresh', './kind.mjs')));
    expect(run('--no-memo')).toMatchObject({ reused_shards: 0, merkle_root: specRoot(1, 2) });
  }, 120_000);
});

describe('module tags', () => {
  it('cover the module and what it imports from its folder, not what lies outside it', () => {
    const dir = folder();
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'deep.ts'), 'export const d = 1;\n');
    writeFileSync(join(dir, 'lib', 'mid.ts'), "export { d } from './deep.js';\n");
    writeFileSync(join(dir, 'unused.mjs'), 'export const u = 1;\n');
    const kind = join(dir, 'kind.mjs');
    writeFileSync(kind, "import { d } from './lib/mid.ts';\nimport fs from 'node:fs';\nimport '../outside.mjs';\nconst later = () => import('./lib/deep.ts');\nexport const executors = {};\n");
    expect(relativeImports("import a from './a.js'; export * from \"../b\"; import('./c.mjs'); require('./d.cjs'); import 'pkg';")).toEqual(['./a.js', '../b', './c.mjs', './d.cjs']);
    const tag = moduleTag(kind);
    expect(tag.files).toEqual(['kind.mjs', 'lib/deep.ts', 'lib/mid.ts']);
    writeFileSync(join(dir, 'unused.mjs'), 'export const u = 2;\n');
    expect(moduleTag(kind).tag).toBe(tag.tag);
    writeFileSync(join(dir, 'lib', 'deep.ts'), 'export const d = 2;\n');
    expect(moduleTag(kind).tag).not.toBe(tag.tag);
  });

  it('a thread refuses to load a module whose files changed since its plan was submitted', () => {
    const dir = folder();
    const kind = writeKind(dir);
    const url = taggedModuleUrl(kind, moduleTag(kind).tag);
    expect(() => checkModuleTag(url)).not.toThrow();
    writeKind(dir, { factor: 2 });
    expect(() => checkModuleTag(url)).toThrow(ModuleChangedError);
  });
});

describe('the checkpoint format', () => {
  it('a store whose checkpoints are in another format is refused by the engine, naming the data dir', async () => {
    const dir = folder();
    const store = openStore({ path: join(dir, 'store') });
    await store.write(() => void checkpointDb(store).put(Buffer.from('old-plan\u0000\u0000\u0000\u0000\u0000\u0000\u0001'), Buffer.from('x')));
    await store.close();
    const kernel = await startKernel(loadConfig({ env: { XYN_DATA_DIR: dir, XYN_WORKERS: '1' } }), { log: createLogger('warn', 'stderr'), poolTasks: HXO_POOL_TASKS });
    try {
      expect(() => new HxoEngine(kernel)).toThrow(CheckpointFormatError);
      expect(() => new HxoEngine(kernel)).toThrow(new RegExp(`${dir}.*format 1, this xyn reads format 2`));
    } finally {
      await kernel.stop();
    }
  });
});
