/**
 * Where a worker thread's entry file is, in built or in source form.
 *
 * Built code runs `dist/actors/NAME.js` directly. Source (tests, tsx) starts
 * `actors/tsx-bootstrap.mjs`, which registers tsx inside the thread and then
 * loads `actors/NAME.ts`: the same code, no build step. Either way the
 * thread's workerData must carry `xyn_entry`.
 *
 * Inside a thread, the modules it is told of by path or URL (an actor's, a
 * pool task's) are imported with moduleSpecifier / importOnce.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';

const fromSource = import.meta.url.endsWith('.ts');

export interface WorkerEntry {
  /** The file the Worker (or Piscina) starts. */
  filename: string;
  /** Spread into the thread's workerData. */
  workerData: { xyn_entry: string };
}

export function workerEntry(name: string): WorkerEntry {
  const actors = new URL('../../actors/', import.meta.url);
  const target = new URL(`${name}${fromSource ? '.ts' : '.js'}`, actors);
  return {
    filename: fileURLToPath(fromSource ? new URL('tsx-bootstrap.mjs', actors) : target),
    workerData: { xyn_entry: target.href },
  };
}

/** A module path or URL as an import() specifier. */
export function moduleSpecifier(module: string): string {
  return /^[a-z]+:/.test(module) ? module : pathToFileURL(module).href;
}

const imported = new Map<string, Promise<Record<string, unknown>>>();

/**
 * Imports a module (path or file URL) once per thread. `check` sees its
 * specifier before the first import; if it throws, nothing is kept and the
 * next call checks again.
 */
export function importOnce(module: string, check?: (specifier: string) => void): Promise<Record<string, unknown>> {
  let loaded = imported.get(module);
  if (!loaded) {
    const specifier = moduleSpecifier(module);
    check?.(specifier);
    loaded = import(specifier) as Promise<Record<string, unknown>>;
    imported.set(module, loaded);
  }
  return loaded;
}
