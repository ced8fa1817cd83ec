/**
 * Worker side of shard execution: one batch of a stage's shards, in a pool thread.
 *
 * For each shard: its address (cas_id), a memo lookup when asked, the
 * executor (async ones raced against the shard timeout; a synchronous hang is
 * the pool watchdog's to kill), the output's canonical bytes and digest, and
 * the Merkle leaf hash. Then ONE durable LMDB transaction writes the
 * artifacts the executors kept (ShardContext) and the checkpoints of every
 * shard that finished for good (done, reused, or failed on its last
 * attempt); a shard that will be retried is left pending. The
 * answer is compact: fixed-width byte arrays, errors only for failures.
 */
import { openStore, type Store } from '../store/env.ts';
import { loadExecutor, type Executor } from '../kernel/executor-loader.ts';
import type { ShardContext } from '../kernel/batch-protocol.ts';
import { sha256 } from '../kernel/sha256.ts';
import type { Database } from 'lmdb';
import { casDb } from '../store/cas.ts';
import type { ProgressBoard } from '../kernel/progress-board.ts';
import { canonicalView } from '../kernel/canonical.ts';
import { casIdAt, shardAddressInto } from './address.ts';
import { serializeError } from '../kernel/errors.ts';
import { ShardTimeoutError } from './engine-errors.ts';
import { workerPartitioners } from './partitioners.ts';
import { CheckpointKeys, checkpointDb, doneOutput, encodeDoneShard, encodeFailed, memoDb, memoKey, type CheckpointDb, type MemoDb } from './checkpoint-records.ts';

export interface ShardBatchTask {
  t: 'shards';
  slot: number;
  plan_id: string;
  stage_index: number;
  kind: string;
  executor: string;
  module: string;
  config: Record<string, unknown>;
  /** Digest of the executor's config: part of the memo key. */
  config_digest: string;
  memo_lookup: boolean;
  memo_record: boolean;
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
  errors: { j: number; message: string; timeout: boolean }[];
}

let store: Store | undefined;
/** The shard's full address, raw (scratch). */
const address = Buffer.alloc(32);
let checkpoints: CheckpointDb;
let memo: MemoDb;
let blobs: Database<Uint8Array, string>;

function openDbs(path: string): void {
  if (store) return;
  store = openStore({ path });
  checkpoints = checkpointDb(store);
  memo = memoDb(store);
  blobs = casDb(store);
}

export async function runShardBatch(task: ShardBatchTask, board: ProgressBoard, storePath: string | null, threadId: number): Promise<ShardBatchResult> {
  if (!storePath) throw new Error('the shard-worker pool was started without a store path');
  openDbs(storePath);
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
  const memoWrites: { key: Buffer; value: Uint8Array }[] = [];
  const configDigest = Buffer.from(task.config_digest, 'hex');
  // Artifacts the executors keep, by address: written with the checkpoints.
  const artifacts = new Map<string, Uint8Array>();
  const context: ShardContext = {
    putArtifact(bytes) {
      const hash = sha256(bytes).toString('hex');
      if (!artifacts.has(hash)) artifacts.set(hash, Uint8Array.prototype.slice.call(bytes) as Uint8Array);
      return hash;
    },
  };
  const keys = new CheckpointKeys(task.plan_id, task.stage_index);

  let run = 0;
  let k = 0;
  for (let j = 0; j < n; j++) {
    // Shard j is the k-th of run `run`: index i, attempt a.
    while (k === runs[run + 1]) [run, k] = [run + 3, 0];
    const i = (runs[run] as number) + k++;
    const a = runs[run + 2] as number;
    const input = inputOf(j, i);
    const started = Date.now();
    board.begin(task.slot, j, threadId, started);
    shardAddressInto(task.kind, task.executor, input, address, 0);
    for (let b = 0; b < 8; b++) result.cas[j * 8 + b] = address[b] as number;
    // Made now: the scratch is another batch's once this one awaits.
    const key = task.memo_lookup || task.memo_record ? memoKey(address, configDigest) : undefined;
    let output: Uint8Array | undefined;
    let reused = false;
    let error: unknown = loadError;
    if (task.memo_lookup) {
      const ref = memo.getBinary(key as Buffer);
      const hit = ref ? doneOutput(checkpoints.getBinary(ref), casIdAt(result.cas, j)) : undefined;
      if (hit) [output, reused] = [hit, true];
    }
    if (!output && execute) {
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
      result.outcome[j] = reused ? Outcome.Reused : Outcome.Done;
      const checkpoint = encodeDoneShard(output, result.cas, j, a, took, reused, result.digests, result.leaves);
      written.push(i);
      values.push(checkpoint);
      if (task.memo_record && !reused) memoWrites.push({ key: key as Buffer, value: Buffer.from(keys.at(i)) });
    } else {
      const final = a >= task.max_attempts;
      const message = serializeError(error).message;
      result.outcome[j] = final ? Outcome.Failed : Outcome.Retry;
      result.errors.push({ j, message, timeout: error instanceof ShardTimeoutError });
      if (final) {
        written.push(i);
        values.push(encodeFailed(casIdAt(result.cas, j), a, took, message));
      }
    }
  }
  board.end(task.slot);
  await (store as Store).write(() => {
    for (const [hash, bytes] of artifacts) if (!blobs.doesExist(hash)) void blobs.put(hash, bytes);
    for (let k = 0; k < written.length; k++) void checkpoints.put(keys.at(written[k] as number), values[k] as Uint8Array);
    for (const m of memoWrites) void memo.put(m.key, m.value);
  });
  return result;
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
