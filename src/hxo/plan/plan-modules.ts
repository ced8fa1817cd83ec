/**
 * Where a plan's job-kind modules (`modules:`) may come from.
 *
 * A module is code the node runs: a file, named by a path relative to the
 * plan's directory or by a `file:` URL. Other specifiers (`node:fs`,
 * `data:…`, `http://…`) are not files of the plan and are refused by the
 * plan's shape (`modules[0]: …`). A plan that comes over HTTP — from
 * someone who cannot put files on the node — may load only files under the
 * node's plan directory (its `baseDir`) or the directories XYN_MODULE_DIRS
 * names, or the modules HXO_JOB_KIND_MODULES names; symlinks are followed
 * before the check, so a link
 * under the directory to a file elsewhere is refused too.
 *
 *   moduleFile('./kinds/wordcount.mjs', '/srv/plans')   // '/srv/plans/kinds/wordcount.mjs'
 *   confineModules(['../../etc/x.mjs'], { dirs: ['/srv/plans'], files: [] }, '/srv/plans')   // PlanError modules[0]
 */
import { realpathSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PlanError } from '../engine-errors.ts';

/** `scheme:` at the start: a URL, not a path (Linux paths have no drive letters). */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** True for what `moduleFile` can take: a path, or a file: URL. */
export function isModuleFileSpecifier(spec: string): boolean {
  return !SCHEME.test(spec) || /^file:/i.test(spec);
}

export const MODULE_SPECIFIER_RULE = 'a job-kind module is a file: a path relative to the plan\'s directory, or a file: URL (node:, data:, http: and other specifiers are refused)';

/** The file a module specifier names; a PlanError naming `field` when it names none. */
export function moduleFile(spec: string, baseDir: string, field = 'modules'): string {
  if (!SCHEME.test(spec)) return resolve(baseDir, spec);
  if (!/^file:/i.test(spec)) throw new PlanError(field, `${JSON.stringify(spec.slice(0, 80))}: ${MODULE_SPECIFIER_RULE}`);
  try {
    return fileURLToPath(spec);
  } catch (err) {
    throw new PlanError(field, `${JSON.stringify(spec.slice(0, 80))} is not a file URL this node can open: ${(err as Error).message}`);
  }
}

/** Where modules may load from: files under `dirs`, and the `files` named one by one. */
export interface ModuleRoots {
  dirs: readonly string[];
  files: readonly string[];
}

/** The roots a node gives plans submitted over HTTP: its plan directory and XYN_MODULE_DIRS, and the modules HXO_JOB_KIND_MODULES names. */
export function moduleRoots(baseDir: string, config: { XYN_MODULE_DIRS: readonly string[]; HXO_JOB_KIND_MODULES: readonly string[] }, cwd: string): ModuleRoots {
  return { dirs: [baseDir, ...config.XYN_MODULE_DIRS.map((d) => resolve(cwd, d))].map(real), files: config.HXO_JOB_KIND_MODULES.map((m) => real(moduleFile(m, cwd))) };
}

/** Refuses (`modules[i]`) the first module that is not under the roots. */
export function confineModules(modules: readonly string[] | undefined, roots: ModuleRoots, baseDir: string): void {
  for (const [i, spec] of (modules ?? []).entries()) {
    const field = `modules[${i}]`;
    const file = real(moduleFile(spec, baseDir, field));
    if (roots.files.includes(file) || isUnder(file, roots.dirs)) continue;
    throw new PlanError(field, `${JSON.stringify(spec.slice(0, 200))} is outside ${roots.dirs.join(', ')}: a plan submitted over HTTP loads modules only from under the node's plan directory or XYN_MODULE_DIRS, or those HXO_JOB_KIND_MODULES names`);
  }
}

/** Whether a path (symlinks resolved) is under one of these directories (theirs resolved). */
export function isUnder(path: string, dirs: readonly string[]): boolean {
  return dirs.some((dir) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep));
}

/** The path with symlinks resolved; as it is when it does not exist (loading it fails later, saying so). */
export function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}
