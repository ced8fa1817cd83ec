/**
 * What a live run makes of a batch that came back from the pool: its
 * results taken in (leaves into their slots, counts, retries, shard events),
 * an error recovered from (which of its shards used an attempt), or
 * checkpoints the full store did not take (it all runs again later) — and
 * the shards that failed for good, listed for the report.
 *
 * A shard is counted once: its cursor marks it ended when its final outcome
 * arrives. Per shard, events go out created → claimed → done | failed (seed
 * 000). Shards a split withdrew while their batch ran are ignored.
 */
import type { EventBatcher } from '../../kernel/event-batcher.ts';
import type { FailedShard } from '../checkpoints/plan-checkpoints.ts';
import { BystanderError, ItemTimeoutError, TaskCancelledError, ThreadDiedError } from '../../kernel/worker-pool.ts';
import { deserializeError, serializeError } from '../../core/errors.ts';
import type { StorageFullError } from '../../store/errors.ts';
import type { LeafLayout } from '../checkpoints/leaf-layout.ts';
import { casIdAt, shardAddress } from '../plan/address.ts';
import { forEachShard, placeOf, type ShardRuns, type StageCursor } from './stage-cursor.ts';
import { Outcome, type ShardBatchResult } from './shard-batch.ts';
import { RowPicker, casIdItems, doneItems } from './shard-event-items.ts';
import { shardKey } from '../checkpoints/checkpoint-summary.ts';
import type { ShardFailure } from '../checkpoints/checkpoint-records.ts';
import type { RunProgress, StageProgress } from './run-progress.ts';
import type { RunLeaves } from './run-leaves.ts';

/** What a run asks of its engine. */
export interface PlanRunHooks {
  /** Persists a failure found on this thread (a shard whose thread died under it), by checkpoint key. */
  persistFailure(keyStage: number, index: number, casId: string, failure: ShardFailure, attempts: number): void;
  /** A batch's checkpoints found the store full: nothing of it counted, and it runs again once the plan is unpaused. */
  storageFull(err: StorageFullError): void;
}

/** An item of an `hxo.shard.failed` event. */
interface FailedItem {
  cas_id: string;
  error: string;
  error_class: string;
  error_code: string;
  attempt: number;
  final: boolean;
}

const FAILED_LIST_CAP = 1000;

export class BatchOutcomes {
  /** The shards that failed for good (the first FAILED_LIST_CAP of them). */
  readonly failed: FailedShard[] = [];

  constructor(
    private readonly planId: string,
    private readonly events: EventBatcher,
    private readonly hooks: PlanRunHooks,
    private readonly progress: RunProgress,
    private readonly leaves: RunLeaves,
    private readonly layout: LeafLayout,
  ) {}

  /** A batch of `cursor` came back: with its results (checkpoints written or not), or as an error. */
  receive(cursor: StageCursor, batch: ShardRuns, result: ShardBatchResult | undefined, error: unknown): void {
    if (result?.unwritten) this.unwritten(cursor, batch, deserializeError(result.unwritten) as StorageFullError);
    else if (result) this.absorb(cursor, batch, result);
    else this.recover(cursor, batch, error);
  }

  /** Takes in a batch's results: leaves, counts, retries, events. */
  private absorb(cursor: StageCursor, batch: ShardRuns, r: ShardBatchResult): void {
    const stage = cursor.stage;
    const progress = this.progress.stages[stage.index] as StageProgress;
    const common = { plan_id: this.planId, stage_id: stage.id };
    // Leaves of a run are contiguous in their buffer (zero where a shard did
    // not finish, and its slot was zero already): one copy per run. A split
    // shard's slot is never read, so what lands there does not matter.
    const [target, leafBase] = cursor.inSplitSpace ? [this.leaves.sub[stage.index] as Uint8Array, 0] : [this.leaves.base, this.leaves.offsets[stage.index] as number];
    for (let run = 0, j = 0; run < batch.runs.length; run += 3) {
      const [first, count] = [batch.runs[run] as number, batch.runs[run + 1] as number];
      target.set(r.leaves.subarray(j * 32, (j + count) * 32), (leafBase + first) * 32);
      j += count;
    }
    const fresh = new RowPicker();
    const done = new RowPicker();
    const reused = new Uint8Array(r.n);
    const failed: FailedItem[] = [];
    const doneKeys = new Float64Array(r.n);
    let doneCount = 0;
    const failedKeys: number[] = [];
    const errors = r.errors.length > 0 ? new Map(r.errors.map((e) => [e.j, e])) : undefined;
    const now = Date.now();
    let ms = 0;
    // Shards of the batch still in this cursor (all but one split while it ran).
    const kept = new RowPicker();
    const took = new DataView(r.ms.buffer, r.ms.byteOffset, r.ms.byteLength);
    forEachShard(batch, (j, i, a) => {
      if (cursor.isWithdrawn(i)) return;
      kept.add(j);
      if (a === 1) fresh.add(j);
      const shardMs = took.getUint32(j * 4, true);
      ms += shardMs;
      progress.latency.record(shardMs);
      const outcome = r.outcome[j] as Outcome;
      if (outcome === Outcome.Done || outcome === Outcome.Reused) {
        cursor.shardEnded(i);
        progress.done++;
        done.add(j);
        doneKeys[doneCount++] = shardKey(cursor.keyStage, i);
        if (outcome === Outcome.Reused) {
          progress.reused++;
          reused[j] = 1;
        }
      } else {
        const casId = casIdAt(r.cas, j);
        const failure = errors?.get(j) ?? { message: 'unknown error', name: 'Error', code: 'ERROR' };
        const final = outcome === Outcome.Failed;
        failed.push({ cas_id: casId, ...failureFields(failure), attempt: a, final });
        failedKeys.push(final ? shardKey(cursor.keyStage, i) : -1);
        if (final) this.recordFailure(cursor, i, a, casId, failure);
        else cursor.retry(batch, j, i, a + 1, stage.backoff_ms * 2 ** (a - 1), now);
      }
    });
    this.progress.tuneBatchSize(ms / Math.max(1, r.n));
    this.events.addMany('hxo.shard.created', { ...common, phase: 'pending' }, casIdItems(r.cas, fresh.rows(r.n)));
    this.events.addMany('hxo.shard.claimed', common, casIdItems(r.cas, kept.rows(r.n)));
    // Final events carry their shards' keys: the plan's summaries record them as logged (checkpoint-summary.ts).
    if (done.size > 0) this.events.addMany('hxo.shard.done', common, doneItems(r.cas, r.digests, reused, done.rows(r.n)), doneKeys.subarray(0, doneCount));
    if (failed.length) this.events.addMany('hxo.shard.failed', common, failed, failedKeys);
  }

  /**
   * A batch that came back as an error. When we know which shard its thread
   * was on (the one that hung or killed it), that shard has used an attempt
   * and the others simply run again. When no shard of it was at fault (it was
   * cancelled for a split, or its thread killed for another task's), they all
   * run again on the same attempt. When we do not know (the batch itself
   * failed), every shard of it has used an attempt, so nothing retries forever.
   */
  private recover(cursor: StageCursor, batch: ShardRuns, error: unknown): void {
    const stage = cursor.stage;
    const now = Date.now();
    const blameless = error instanceof TaskCancelledError || error instanceof BystanderError;
    const culprit = error instanceof ItemTimeoutError || error instanceof ThreadDiedError ? error.position : -1;
    const wire = serializeError(error);
    const reason: ShardFailure = { message: error instanceof ItemTimeoutError ? `timeout after ${stage.timeout_ms / 1000}s` : wire.message, name: wire.name, code: wire.code };
    const common = { plan_id: this.planId, stage_id: stage.id };
    forEachShard(batch, (j, i, a) => {
      if (cursor.isWithdrawn(i)) return;
      if (blameless || (culprit >= 0 && j !== culprit)) {
        cursor.retry(batch, j, i, a, 0, now);
        return;
      }
      const final = a >= stage.retries + 1;
      // The thread died before the shard's cas_id came back: compute it here.
      const { casId } = shardAddress(stage.kind, stage.executor, cursor.inputOf(batch, j, i));
      if (a === 1) this.events.add('hxo.shard.created', { ...common, phase: 'pending' }, casId);
      this.events.add('hxo.shard.claimed', common, casId);
      this.events.add('hxo.shard.failed', common, { cas_id: casId, ...failureFields(reason), attempt: a, final } satisfies FailedItem, final ? shardKey(cursor.keyStage, i) : undefined);
      if (final) {
        this.recordFailure(cursor, i, a, casId, reason);
        this.hooks.persistFailure(cursor.keyStage, i, casId, reason, a);
      } else {
        cursor.retry(batch, j, i, a + 1, stage.backoff_ms * 2 ** (a - 1), now);
      }
    });
  }

  /**
   * A batch that ran but whose checkpoints were not written (the store is
   * full): none of it happened as far as the plan goes. Its shards run again
   * on the same attempt, and the engine hears of the full store (it pauses
   * its plans). Other write errors are thrown: the batch's failure.
   */
  private unwritten(cursor: StageCursor, batch: ShardRuns, error: StorageFullError): void {
    const now = Date.now();
    forEachShard(batch, (j, i, a) => {
      if (!cursor.isWithdrawn(i)) cursor.retry(batch, j, i, a, 0, now);
    });
    this.hooks.storageFull(error);
  }

  private recordFailure(cursor: StageCursor, i: number, attempts: number, casId: string, failure: ShardFailure): void {
    const stage = cursor.stage;
    cursor.shardEnded(i);
    (this.progress.stages[stage.index] as StageProgress).failed++;
    if (this.failed.length < FAILED_LIST_CAP) {
      const { shard, sub } = placeOf(this.layout, cursor, i);
      this.failed.push({ stage_id: stage.id, shard_index: shard, ...(sub !== undefined ? { sub_shard: sub } : {}), cas_id: casId, ...failureFields(failure), attempts });
    }
  }
}

/** A failure as reports and events carry it. */
function failureFields(f: ShardFailure): { error: string; error_class: string; error_code: string } {
  return { error: f.message, error_class: f.name, error_code: f.code };
}
