/**
 * The HXO layer's tasks on the kernel's worker pool: a stage's shard batch
 * (`shards`, shard-batch.ts) and a part of certification's Merkle blocks
 * (`merkle`, merkle-task.ts). A kernel that runs the engine is started with
 * HXO_POOL_TASKS (node.ts); each pool thread then imports this module as it
 * starts and runs these tasks by type (actors/pool-worker.ts).
 */
import type { TaskHandler } from '../kernel/pool-protocol.ts';
import { runShardBatch, type ShardBatchTask } from './run/shard-batch.ts';
import { blockRoots, type MerkleTask } from './certify/merkle-task.ts';

/** Worker side: the handler of each task type. */
export const poolTasks = { shards: runShardBatch, merkle: blockRoots } satisfies { shards: TaskHandler<ShardBatchTask>; merkle: TaskHandler<MerkleTask> };

/** For startKernel's `poolTasks`: each type's module (this one). */
export const HXO_POOL_TASKS: Record<keyof typeof poolTasks, string> = { shards: import.meta.url, merkle: import.meta.url };
