/**
 * Worker-side: imports executor modules once per thread and finds an executor
 * by name, with an error that names both when it is missing. A user's module
 * is imported by its content tag (module-tags.ts), checked before it loads.
 */
import type { ExecutorModule } from './batch-protocol.ts';
import { moduleSpecifier } from './worker-entry.ts';
import { checkModuleTag } from './module-tags.ts';

export type Executor = ExecutorModule['executors'][string];

const modules = new Map<string, Promise<ExecutorModule & { default?: Partial<ExecutorModule> }>>();

export async function loadExecutor(module: string, name: string): Promise<Executor> {
  let loaded = modules.get(module);
  if (!loaded) {
    const specifier = moduleSpecifier(module);
    checkModuleTag(specifier);
    loaded = import(specifier) as Promise<ExecutorModule & { default?: Partial<ExecutorModule> }>;
    modules.set(module, loaded);
  }
  const mod = await loaded;
  // Executors by name, or in the default export (`export default defineJobKind({...})`).
  const executor = (mod.executors ?? mod.default?.executors)?.[name];
  if (typeof executor !== 'function') throw new TypeError(`module ${module} has no executor "${name}"`);
  return executor;
}
