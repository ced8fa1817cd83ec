/**
 * Piscina entry for the shard-worker pool: runs one batch through an executor.
 *
 * Executor modules are imported once per thread and cached. An executor that
 * throws fails only its item: the error is returned as a value, so the only
 * way a task rejects is the thread dying (which the pool retries).
 */
import { move } from 'piscina';
import { decode, encode } from '../src/kernel/codec.ts';
import { serializeError } from '../src/kernel/errors.ts';
import { moduleSpecifier } from '../src/kernel/worker-entry.ts';
import type { BatchResult, BatchTask, ExecutorModule } from '../src/kernel/batch-protocol.ts';

const modules = new Map<string, Promise<ExecutorModule>>();

function load(module: string): Promise<ExecutorModule> {
  let loaded = modules.get(module);
  if (!loaded) {
    loaded = import(moduleSpecifier(module)) as Promise<ExecutorModule>;
    modules.set(module, loaded);
  }
  return loaded;
}

export default async function runBatch(bytes: Uint8Array): Promise<Uint8Array> {
  const task = decode<BatchTask>(bytes);
  const results: BatchResult['results'] = [];
  let execute: ((input: unknown) => unknown) | undefined;
  try {
    const mod = await load(task.module);
    execute = mod.executors?.[task.executor];
    if (!execute) throw new TypeError(`module ${task.module} has no executor "${task.executor}"`);
  } catch (err) {
    const e = serializeError(err);
    for (let i = 0; i < task.items.length; i++) results.push({ ok: false, e });
    return reply({ results });
  }
  for (const item of task.items) {
    try {
      results.push({ ok: true, v: await execute(item) });
    } catch (err) {
      results.push({ ok: false, e: serializeError(err) });
    }
  }
  return reply({ results });
}

/** Encodes the answer and moves (not copies) its buffer back to the caller. */
function reply(result: BatchResult): Uint8Array {
  return move(encode(result)) as Uint8Array;
}
