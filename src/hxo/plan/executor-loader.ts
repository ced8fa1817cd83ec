/**
 * Executors: a job kind's code that runs the shards, in the pool threads.
 * What a module exports (ExecutorModule), what an executor is given besides
 * its input and config (ShardContext), and, worker-side, finding one by name
 * with an error that names both module and executor when it is missing. A
 * user's module is imported by its content tag (module-tags.ts), checked
 * before it loads; modules are imported once per thread.
 */
import { importOnce } from '../../kernel/worker-entry.ts';
import { checkModuleTag } from './module-tags.ts';

/** What a shard's executor may use besides its input and config. */
export interface ShardContext {
  /**
   * Keeps `bytes` as an artifact in the node's content-addressed store and
   * returns their sha256 (hex). Artifacts are written in the same transaction
   * as the shard's checkpoint: a shard is never done without them.
   */
  putArtifact(bytes: Uint8Array): string;
  /**
   * The canonical msgpack of this shard's input as its address hashed it
   * (valid during the call; do not keep or change it): an executor that
   * hashes its input need not encode it again.
   */
  inputBytes(): Uint8Array;
}

/**
 * What an executor module exports: executors by name, each one input (and the
 * stage config, and a ShardContext) in, one output out.
 */
export type ExecutorModule = {
  executors: Record<string, (input: unknown, config: Record<string, unknown>, shard: ShardContext) => unknown>;
};

export type Executor = ExecutorModule['executors'][string];

export async function loadExecutor(module: string, name: string): Promise<Executor> {
  const mod = (await importOnce(module, checkModuleTag)) as Partial<ExecutorModule> & { default?: Partial<ExecutorModule> };
  // Executors by name, or in the default export (`export default defineJobKind({...})`).
  const executor = (mod.executors ?? mod.default?.executors)?.[name];
  if (typeof executor !== 'function') throw new TypeError(`module ${module} has no executor "${name}"`);
  return executor;
}
