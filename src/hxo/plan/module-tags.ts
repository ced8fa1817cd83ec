/**
 * Users' modules loaded by content. A module's *tag* is the sha256 of its file
 * and of every file it imports by a literal relative path from its own
 * folder, transitively (packages and files outside its folder are not
 * followed). The module is imported as `file?xyn-module=<tag>&xyn-root=<its
 * folder>`, and the hooks of actors/module-tags.mjs give its relative imports
 * inside that folder the same tag, so
 * a process that loaded one version of a module loads an edited one afresh
 * instead of running the code it cached — and a thread that would load files
 * that no longer hash to the tag it was given refuses (`ModuleChangedError`).
 *
 *   const { tag } = moduleTag('/plans/wordcount.mjs');
 *   registerModuleTags();
 *   const mod = await import(taggedModuleUrl('/plans/wordcount.mjs', tag));
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { XynError, registerErrorClass } from '../../core/errors.ts';

const PARAM = 'xyn-module';

export interface ModuleTag {
  tag: string;
  /** The files hashed, relative to the module's folder. */
  files: string[];
}

/** The module's files now (a module's file that cannot be read throws). */
export function moduleTag(file: string): ModuleTag {
  const root = dirname(file);
  const hashed = new Map<string, string>();
  const pending = [file];
  while (pending.length > 0) {
    const next = pending.pop() as string;
    if (hashed.has(next)) continue;
    const bytes = readFileSync(next);
    hashed.set(next, createHash('sha256').update(bytes).digest('hex'));
    for (const specifier of relativeImports(bytes.toString('utf8'))) {
      if (!isInside(root, resolve(dirname(next), specifier))) continue;
      const target = resolveImport(dirname(next), specifier);
      // A missing file is part of what the module is, too (it may appear later).
      if (target === undefined) hashed.set(`${next} -> ${specifier}`, 'missing');
      else pending.push(target);
    }
  }
  const entries = [...hashed].map(([path, sha]) => [relative(root, path).split(sep).join('/'), sha] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const h = createHash('sha256');
  for (const [path, sha] of entries) h.update(`${path}\0${sha}\n`);
  return { tag: h.digest('hex'), files: entries.map(([path]) => path) };
}

/**
 * Specifiers of static imports, re-exports, dynamic imports and requires with
 * a literal relative path. A match inside a comment or a string only makes
 * the tag cover one file more: safe.
 */
export function relativeImports(source: string): string[] {
  const found = new Set<string>();
  const patterns = [
    /\bfrom\s*(['"])(\.{1,2}\/[^'"\n]+)\1/g,
    /\bimport\s*(['"])(\.{1,2}\/[^'"\n]+)\1/g,
    /\bimport\s*\(\s*(['"])(\.{1,2}\/[^'"\n]+)\1\s*\)/g,
    /\brequire\s*\(\s*(['"])(\.{1,2}\/[^'"\n]+)\1\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) found.add(m[2] as string);
  return [...found];
}

const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.cjs', '.json'];

/** The file a relative specifier names, as Node (or tsx, for a `.js` that names a `.ts`) finds it. */
function resolveImport(from: string, specifier: string): string | undefined {
  const base = resolve(from, specifier.split('?')[0] as string);
  const candidates = [base, ...EXTENSIONS.map((ext) => base + ext), ...EXTENSIONS.map((ext) => resolve(base, `index${ext}`))];
  if (/\.[cm]?js$/.test(base)) candidates.splice(1, 0, base.replace(/\.([cm]?)js$/, '.$1ts'));
  return candidates.find((path) => existsSync(path) && statSync(path).isFile());
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep);
}

/** A module's files no longer hash to the tag it was to be loaded with. */
export class ModuleChangedError extends XynError {
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`job-kind module ${file} changed after its plan was submitted (its files hash to ${actual.slice(0, 12)}…, the plan runs ${expected.slice(0, 12)}…): submit the plan again to run the new code`, 'MODULE_CHANGED', { file, expected, actual });
  }
}
registerErrorClass(ModuleChangedError);

let registered = false;

/** Registers the hooks that pass a module's tag on to its relative imports (once per thread). */
export function registerModuleTags(): void {
  if (registered) return;
  registered = true;
  // src/hxo/ in source, dist/src/hxo/ when built: the hooks are in the package's actors/.
  const hooks = ['../../../actors/module-tags.mjs', '../../../../actors/module-tags.mjs'].map((rel) => new URL(rel, import.meta.url)).find((url) => existsSync(url));
  if (!hooks) throw new Error('actors/module-tags.mjs not found in the xyn package');
  register(hooks.href);
}

export function taggedModuleUrl(file: string, tag: string): string {
  const url = pathToFileURL(file);
  url.searchParams.set(PARAM, tag);
  url.searchParams.set('xyn-root', dirname(file));
  return url.href;
}

/**
 * Before a thread imports a tagged module: its files must still hash to the
 * tag (ModuleChangedError otherwise), and the hooks must be in place. Untagged
 * specifiers (xyn's own executors) pass as they are.
 */
export function checkModuleTag(specifier: string): void {
  if (!specifier.startsWith('file:')) return;
  const url = new URL(specifier);
  const tag = url.searchParams.get(PARAM);
  if (!tag) return;
  const file = fileURLToPath(url);
  const now = moduleTag(file).tag;
  if (now !== tag) throw new ModuleChangedError(file, tag, now);
  registerModuleTags();
}
