/**
 * The CLI's side of issue 12: a plan file nested past the limit, a module
 * that is not a file, a plan id too long for the store — each one line on
 * stderr naming what is wrong, exit 2, and nothing written.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../kernel/helpers.ts';
import { xynSync } from '../helpers/cli.ts';

const dir = tempDir();
afterAll(() => dir.cleanup());

function refused(args: string[], line: RegExp): void {
  const r = xynSync(args);
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(line);
}

const stage = (config: string) => `{"name":"edge","stages":[{"id":"h","kind":"compute.hash","partitioner":"by_range","executor":"hash","config":${config}}]}`;

describe('xyn run refuses, exit 2 with one line', () => {
  it('a JSON plan whose config nests 1,500 deep, naming the field and the limit', () => {
    const file = join(dir.path, 'deep.json');
    writeFileSync(file, stage(`{"total":3,"per_shard":1,"deep":${'{"a":'.repeat(1_500)}1${'}'.repeat(1_500)}}`));
    const data = join(dir.path, 'data-deep');
    refused(['run', file, '--data', data], /^xyn: stages\[0\]\.config\.deep\.a\.a.*…: nested more than 64 levels deep .*the limit is 64 levels/);
    expect(existsSync(data)).toBe(false);
  });

  it('a YAML plan too deep for its parser, naming the line and the limit', () => {
    const file = join(dir.path, 'deep.yaml');
    writeFileSync(file, `name: edge\nstages:\n  - id: h\n    kind: compute.hash\n    config: ${'['.repeat(2_000)}${']'.repeat(2_000)}\n`);
    refused(['run', file, '--data', join(dir.path, 'data-yaml')], /^xyn: file: line 5, column \d+: nested more than 64 levels deep/);
  });

  it('modules that are not files (node:, data:), naming modules[i]', () => {
    for (const spec of ['node:fs', 'data:text/javascript,export const kind = 1']) {
      const file = join(dir.path, 'mod.json');
      writeFileSync(file, JSON.stringify({ name: 'edge', modules: [spec], stages: [{ id: 'h', kind: 'compute.hash', config: { total: 3 } }] }));
      refused(['run', file, '--data', join(dir.path, 'data-mod')], /^xyn: modules\[0\]: .*a job-kind module is a file/);
    }
  });
});

describe('plan ids', () => {
  it('a plan id of 4,093 characters is refused before the store is read', () => {
    for (const command of ['status', 'report', 'resume']) {
      refused([command, 'x'.repeat(4_093), '--data', join(dir.path, 'data-ids')], /a plan id is 1-128 letters, digits, _ \. -, got "x{40}…" \(4093 characters\)/);
    }
  });
});
