/**
 * The layers of src/ import one way: each may import the ones before it in
 * LAYERS, never one after it (README, "Layout"). Read from the source's own
 * relative imports (static and dynamic), so a change that turns an arrow
 * around fails here, naming the file and what it imports.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.ts';

const LAYERS = ['core', 'store', 'kernel', 'hxo', 'xyn', 'api', 'ui', 'sdk', 'node', 'cli'];
const SRC = join(REPO_ROOT, 'src');
const IMPORT = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const layerOf = (file: string) => relative(SRC, file).split('/')[0] as string;

it('every folder of src/ is a layer, and no file imports a layer after its own', () => {
  const files = sourceFiles(SRC);
  expect(new Set(files.map(layerOf))).toEqual(new Set(LAYERS));
  const against: string[] = [];
  for (const file of files) {
    const own = LAYERS.indexOf(layerOf(file));
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = normalize(join(dirname(file), spec as string));
      if (!target.startsWith(SRC)) continue;
      if (LAYERS.indexOf(layerOf(target)) > own) against.push(`${relative(REPO_ROOT, file)} imports ${relative(REPO_ROOT, target)}`);
    }
  }
  expect(against).toEqual([]);
  expect(files.length).toBeGreaterThan(100);
});
