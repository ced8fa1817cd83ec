/**
 * Worker side of shard execution: one batch of a stage's shards, in a pool
 * thread (the pool's `shards` task: pool-tasks.ts).
 *
 * For each shard: its address (cas_id), a memo lookup when the batch names
 * an earlier run to reuse from, the executor (async ones raced against the
 * shard timeout; a synchronous hang is the pool watchdog's to kill), the
 * output's canonical bytes and digest, and the Merkle leaf hash. Then ONE
 * durable LMDB transaction writes the artifacts the executors kept
 * (ShardContext) and the checkpoints of every shard that finished for good
 * (done, reused, or failed on its last attempt); a shard that will be retried
 * is left pending. The answer is compact: fixed-width byte arrays, errors
 * only for failures.
 *
 * The memo (memo.ts) is the earlier run's checkpoints: shard i's output is
 * reused when the checkpoint at the same place in that run holds a shard of
 * the same address (128 bits) whose stored output still hashes to its digest.
 */
import { openStore, type Store } from '../../store/env.ts';
import { loadExecutor, type Executor, type ShardContext } from '../plan/executor-loader.ts';
import { sha256 } from '../../kernel/sha256.ts';
import type { Database } from 'lmdb';
import { addCasRefs, casDb, casRefsDb, type CasRefsDb } from '../../store/cas.ts';
import type { PoolTask, PoolThread } from '../../kernel/pool-protocol.ts';
import { canonicalView } from '../../core/canonical.ts';
import { SPLIT_STAGE_BIT } from '../checkpoints/leaf-layout.ts';
import { casIdAt, copyFrameInput, shardAddressInto } from '../plan/address.ts';
import { isRetryable, serializeError, type SerializedError } from '../../core/errors.ts';
import { StorageFullError } from '../../store/errors.ts';
import { ShardTimeoutError } from '../engine-errors.ts';
import { workerPartitioners } from '../partitioners/worker-partitioners.ts';
import {
  ADDRESS_BYTES,
  BLOCK_SHARDS,
  BlockKeys,
  checkpointArtifacts,
  checkpointDb,
  doneOutput,
  planArtifactOwner,
  encodeDoneShard,
  encodeFailed,
  encodeReused,
  forEachBlockRecord,
  writeCheckpoints,
  type CheckpointDb,
  type ShardFailure,
} from '../checkpoints/checkpoint-records.ts';
import type { MemoSource } from '../checkpoints/memo.ts';

export interface ShardBatchTask extends PoolTask {
  t: 'shards';
  plan_id: string;
  stage_index: number;
  kind: string;
  executor: string;
  module: string;
  config: Record<string, unknown>;
  /** The earlier run whose checkpoints at the same key stage and index may hold a shard's output (memo.ts). */
  memo?: MemoSource;
  timeout_ms: number;
  max_attempts: number;
  /** The shards: flat triples [first index, count, attempt (from 1)] (see stage-cursor.ts). */
  runs: number[];
  /** Their inputs, in run order; or, instead, the built-in partitioner that makes them from indexes. */
  inputs?: unknown[];
  partitioner?: string;
}

export const enum Outcome {
  Done = 1,
  Failed = 2,
  Reused = 3,
  /** Failed, with attempts left: the plan will retry it. */
  Retry = 4,
}

export interface ShardBatchResult {
  n: number;
  /** n × 8 bytes: each shard's cas_id, raw (the first 8 bytes of its address). */
  cas: Uint8Array;
  /** n outcomes. */
  outcome: Uint8Array;
  /** n × 32 bytes: leaf hashes (zero where not done). */
  leaves: Uint8Array;
  /** n × 32 bytes: output digests (zero where not done). */
  digests: Uint8Array;
  /** n × 4 bytes: milliseconds each shard took (u32 little-endian; bytes, not a number array, so the plan's thread gets no garbage per shard). */
  ms: Uint8Array;
  /** Why shards did not end done: the error of each, by its place in the batch. */
  errors: ({ j: number; timeout: boolean } & ShardFailure)[];
  /** Set when the batch's checkpoints were not written because the store is full: nothing of it counts, and it runs again. */
  unwritten?: SerializedError;
}

const EMPTY_RESULT = { cas: new Uint8Array(0), outcome: new Uint8Array(0), leaves: new Uint8Array(0), digests: new Uint8Array(0), ms: new Uint8Array(0), errors: [] };

let store: Store | undefined;
/** The shard's full address, raw (scratch). */
const address = Buffer.alloc(32);
let checkpoints: CheckpointDb;
let blobs: Database<Uint8Array, string>;
let refs: CasRefsDb;

function openDbs(path: string): void {
  if (store) return;
  store = openStore({ path });
  checkpoints = checkpointDb(store);
  blobs = casDb(store);
  refs = casRefsDb(store);
}

/** The `shards` task (pool-tasks.ts). */
export async function runShardBatch(task: ShardBatchTask, thread: PoolThread): Promise<ShardBatchResult> {
  const { board, threadId } = thread;
  if (!thread.store) throw new Error('the shard-worker pool was started without a store path');
  openDbs(thread.store);
  const { runs } = task;
  let n = 0;
  for (let r = 1; r < runs.length; r += 3) n += runs[r] as number;
  const inputOf = inputMaker(task);
  const result: ShardBatchResult = {
    n,
    cas: new Uint8Array(n * 8),
    outcome: new Uint8Array(n),
    leaves: new Uint8Array(n * 32),
    digests: new Uint8Array(n * 32),
    ms: new Uint8Array(n * 4),
    errors: [],
  };
  const msView = new DataView(result.ms.buffer);
  // The first bytes of each shard's address, raw: its checkpoint keeps them.
  const addresses = new Uint8Array(n * ADDRESS_BYTES);
  let execute: Executor | undefined;
  let loadError: unknown;
  try {
    execute = await loadExecutor(task.module, task.executor);
  } catch (err) {
    loadError = err;
  }
  // Checkpoints to write: shard indexes and values, side by side.
  const written: number[] = [];
  const values: Uint8Array[] = [];
  const earlier = task.memo ? new EarlierRun(task.memo, task.stage_index) : undefined;
  // Artifacts the executors keep, by address; written with the checkpoints
  // when a done shard refers to them. The plan holds every artifact its done
  // shards refer to (made here or reused with an output).
  const artifacts = new Map<string, Uint8Array>();
  const held = new Set<string>();
  let shardArtifacts: string[] = [];
  // The shard's input as its address frame encoded it (inputLength -1: encode it when asked).
  let input: unknown;
  let inputLength = -1;
  const context: ShardContext = {
    inputBytes() {
      if (inputLength < 0) return canonicalView(input);
      return inputView(inputLength);
    },
    putArtifact(bytes) {
      const hash = sha256(bytes).toString('hex');
      if (!artifacts.has(hash)) artifacts.set(hash, Uint8Array.prototype.slice.call(bytes) as Uint8Array);
      if (!shardArtifacts.includes(hash)) shardArtifacts.push(hash);
      return hash;
    },
  };
  const keys = new BlockKeys(task.plan_id, task.stage_index);

  let run = 0;
  let k = 0;
  for (let j = 0; j < n; j++) {
    // Shard j is the k-th of run `run`: index i, attempt a.
    while (k === runs[run + 1]) [run, k] = [run + 3, 0];
    const i = (runs[run] as number) + k++;
    const a = runs[run + 2] as number;
    input = inputOf(j, i);
    const started = Date.now();
    board.begin(task.slot, j, threadId, started);
    shardAddressInto(task.kind, task.executor, input, address, 0);
    inputLength = copyFrameInput(inputScratch);
    // Byte loops: Buffer#copy costs more than these few bytes.
    for (let b = 0; b < ADDRESS_BYTES; b++) addresses[j * ADDRESS_BYTES + b] = address[b] as number;
    for (let b = 0; b < 8; b++) result.cas[j * 8 + b] = address[b] as number;
    const before = earlier?.checkpoint(i);
    if (before && doneOutput(before, address)) {
      const took = Math.max(0, Date.now() - started);
      msView.setUint32(j * 4, took, true);
      result.outcome[j] = Outcome.Reused;
      written.push(i);
      values.push(encodeReused(before, j, a, took, result.digests, result.leaves));
      for (const hash of checkpointArtifacts(before)) held.add(hash);
      continue;
    }
    let output: Uint8Array | undefined;
    let error: unknown = loadError;
    if (shardArtifacts.length > 0) shardArtifacts = [];
    if (execute) {
      try {
        const value = execute(input, task.config, context);
        // Only asynchronous executors pay for a timer and an await. The view is
        // copied into the checkpoint below, before anything else is encoded.
        output = canonicalView(value instanceof Promise ? await withTimeout(value, task.timeout_ms, casIdAt(result.cas, j)) : value);
        error = undefined;
      } catch (err) {
        error = err;
      }
    }
    const took = Math.max(0, Date.now() - started);
    msView.setUint32(j * 4, took, true);
    if (output) {
      result.outcome[j] = Outcome.Done;
      written.push(i);
      values.push(encodeDoneShard(output, addresses, j, a, took, result.digests, result.leaves, shardArtifacts));
      for (const hash of shardArtifacts) held.add(hash);
    } else {
      // An error that says trying again cannot help (NonRetryableError) ends the shard now.
      const final = a >= task.max_attempts || !isRetryable(error);
      const { message, name, code } = serializeError(error);
      const failure = { message, name, code };
      result.outcome[j] = final ? Outcome.Failed : Outcome.Retry;
      result.errors.push({ j, ...failure, timeout: error instanceof ShardTimeoutError });
      if (final) {
        written.push(i);
        values.push(encodeFailed(casIdAt(result.cas, j), a, took, failure));
      }
    }
  }
  board.end(task.slot);
  try {
    await (store as Store).write(() => {
      for (const hash of held) {
        const bytes = artifacts.get(hash);
        if (bytes && !blobs.doesExist(hash)) void blobs.put(hash, bytes);
      }
      if (held.size > 0) addCasRefs(refs, planArtifactOwner(task.plan_id), held);
      writeCheckpoints(checkpoints, keys, written, values);
    });
  } catch (err) {
    // Said, not thrown: a thrown error would reach the plan as the thread's death, costing its shards an attempt.
    if (err instanceof StorageFullError) return { ...EMPTY_RESULT, n, unwritten: serializeError(err) };
    throw err;
  }
  return result;
}

/** The checkpoints of the earlier run a batch may reuse from, a block at a time. */
class EarlierRun {
  private readonly keys: BlockKeys;
  private first = -1;
  /** The block's checkpoints by place in it (read once per block, not per shard). */
  private readonly slots: (Uint8Array | undefined)[] = new Array(BLOCK_SHARDS);

  constructor(source: MemoSource, keyStage: number) {
    // A sub-shard of a split shard is looked for in the earlier run's split space.
    this.keys = new BlockKeys(source.plan_id, source.stage | (keyStage & SPLIT_STAGE_BIT));
  }

  /** The earlier run's checkpoint at index i of this key stage. */
  checkpoint(i: number): Uint8Array | undefined {
    const first = i - (i % BLOCK_SHARDS);
    if (first !== this.first) {
      this.first = first;
      this.slots.fill(undefined);
      const block = checkpoints.getBinary(this.keys.at(first));
      if (block) forEachBlockRecord(block, (k, checkpoint) => (this.slots[k] = checkpoint));
    }
    return this.slots[i - first];
  }
}

/** Scratch for a shard's canonical input, and views of its first n bytes by n (no view allocated per shard). */
const inputScratch = new Uint8Array(64 * 1024);
const inputViews: Uint8Array[] = [];
function inputView(n: number): Uint8Array {
  if (n > 1024) return inputScratch.subarray(0, n);
  return (inputViews[n] ??= inputScratch.subarray(0, n));
}

/** Shard j's input: sent with the batch, or made here from its index i. */
function inputMaker(task: ShardBatchTask): (j: number, i: number) => unknown {
  const { inputs, partitioner: name, config } = task;
  if (inputs) return (j) => inputs[j];
  const at = name ? workerPartitioners[name]?.at : undefined;
  if (!at) throw new Error(`batch of ${task.plan_id} has neither inputs nor a partitioner with random access (got ${name})`);
  return (_j, i) => at(config, i);
}

/** An async executor's result, or ShardTimeoutError once it outlives the timeout. */
function withTimeout(out: Promise<unknown>, ms: number, casId: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    out,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new ShardTimeoutError(casId, ms)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
