/**
 * One live plan: its stages' shards flow through the scheduler to the pool,
 * results come back, leaves land in shared memory, and when every shard has
 * ended the plan is certified (or fails, or was aborted).
 *
 * Invariants:
 * - A shard is counted once: `ended` marks it when its final outcome arrives,
 *   and a resumed plan starts with the marks its checkpoints imply.
 * - Leaf i of the plan (stage offset + shard index) is at bytes [32i, 32i+32)
 *   of `leaves`, whatever the order of completion: so the root depends only on
 *   the shard set.
 * - Per shard, events go out created → claimed → done | failed (seed 000).
 */
import type { EventBatcher } from '../kernel/event-batcher.ts';
import type { WorkerPool } from '../kernel/worker-pool.ts';
import { ItemTimeoutError, ThreadDiedError } from '../kernel/worker-pool.ts';
import { locateLeaf, type ResolvedPlan } from './plan.ts';
import { casIdAt, shardAddress } from './address.ts';
import type { JobKindRegistry } from './job-kinds.ts';
import { StageCursor, forEachShard, type ShardRuns } from './stage-cursor.ts';
import { Outcome, type ShardBatchResult, type ShardBatchTask } from './shard-batch.ts';
import type { BatchSource, Scheduler } from './scheduler.ts';
import { LatencyHistogram } from './latency.ts';
import { casIdItems, doneItems } from './shard-event-items.ts';

export type PlanState = 'running' | 'certifying' | 'certified' | 'failed' | 'aborted';

export interface FailedShard {
  stage_id: string;
  shard_index: number;
  cas_id: string;
  error: string;
  attempts: number;
}

export interface StageProgress {
  stage_id: string;
  kind: string;
  total: number;
  done: number;
  failed: number;
  reused: number;
  started_at: number;
  finished_at?: number;
  latency: LatencyHistogram;
}

const TARGET_BATCH_MS = 40;
const MAX_BATCH = 4096;
const FAILED_LIST_CAP = 1000;

export class PlanRun {
  readonly leaves: SharedArrayBuffer;
  readonly stages: StageProgress[];
  readonly failed: FailedShard[] = [];
  state: PlanState = 'running';
  abortReason?: string;
  private readonly cursors: StageCursor[];
  private readonly offsets: number[];
  private readonly leafView: Uint8Array;
  private readonly sources: BatchSource[];
  private inFlightShards = 0;
  private batchSize = 64;
  private perShardMsEma = 0;
  private rate = 0;
  private lastRateAt = Date.now();
  private lastRateDone = 0;
  private finish!: () => void;
  /** Resolves when every shard has ended (or the plan was aborted and in-flight work drained). */
  readonly executed: Promise<void>;

  constructor(
    readonly planId: string,
    readonly plan: ResolvedPlan,
    registry: JobKindRegistry,
    /** Per stage: 1 where the shard already ended (from checkpoints). */
    ended: Uint8Array[],
    /** What checkpoints say already ended: the leaves so far, and per stage its counts. */
    resumed: { leaves: SharedArrayBuffer; stages: { done: number; failed: number; reused: number }[] },
    private readonly pool: WorkerPool,
    private readonly scheduler: Scheduler,
    private readonly events: EventBatcher,
    /** Persists a failure found on this thread (a shard whose thread died under it). */
    private readonly persistFailure: (stage: number, shard: number, casId: string, error: string, attempts: number) => void,
  ) {
    this.leaves = resumed.leaves;
    this.leafView = new Uint8Array(this.leaves);
    this.offsets = [];
    let offset = 0;
    for (const s of plan.stages) {
      this.offsets.push(offset);
      offset += s.shardCount;
    }
    this.cursors = plan.stages.map((s, i) => {
      const kind = registry.get(s.kind);
      const partitioner = kind?.partitioners[s.partitioner];
      if (!partitioner) throw new Error(`stage ${s.id}: partitioner ${s.partitioner} vanished from the registry`);
      return new StageCursor(s, partitioner, ended[i] as Uint8Array);
    });
    const now = Date.now();
    this.stages = plan.stages.map((s, i) => ({
      stage_id: s.id,
      kind: s.kind,
      total: s.shardCount,
      done: resumed.stages[i]?.done ?? 0,
      failed: resumed.stages[i]?.failed ?? 0,
      reused: resumed.stages[i]?.reused ?? 0,
      started_at: now,
      latency: new LatencyHistogram(),
    }));
    this.executed = new Promise((resolve) => (this.finish = resolve));
    this.sources = this.cursors.map((cursor) => ({
      id: `${planId}:${cursor.stage.id}`,
      dispatch: () => this.dispatch(cursor),
      readyAt: () => (this.state === 'running' ? cursor.nextRetryAt : undefined),
    }));
  }

  start(): void {
    for (const s of this.sources) this.scheduler.add(s);
    this.checkFinished();
  }

  /** Stops claiming shards; running batches finish (or time out). */
  abort(reason: string): void {
    this.stop('aborted', reason);
  }

  private stop(state: 'aborted' | 'failed', reason: string): void {
    if (this.state !== 'running') return;
    this.state = state;
    this.abortReason = reason;
    this.checkFinished();
  }

  get counts(): { total: number; done: number; failed: number; reused: number; inFlight: number; pending: number } {
    const total = this.plan.totalShards;
    let done = 0;
    let failed = 0;
    let reused = 0;
    for (const s of this.stages) {
      done += s.done;
      failed += s.failed;
      reused += s.reused;
    }
    return { total, done, failed, reused, inFlight: this.inFlightShards, pending: Math.max(0, total - done - failed - this.inFlightShards) };
  }

  /** Shards running right now (one per active pool slot of this plan) vs merely claimed. */
  get running(): number {
    return Math.min(this.inFlightShards, this.pool.size);
  }

  /** Shards per second, smoothed. */
  get shardsPerSecond(): number {
    const now = Date.now();
    const dt = (now - this.lastRateAt) / 1000;
    if (dt >= 0.5) {
      const { done, failed } = this.counts;
      const instant = (done + failed - this.lastRateDone) / dt;
      this.rate = this.rate === 0 ? instant : 0.7 * this.rate + 0.3 * instant;
      this.lastRateAt = now;
      this.lastRateDone = done + failed;
    }
    return this.rate;
  }

  get etaSeconds(): number | null {
    const c = this.counts;
    const left = c.total - c.done - c.failed;
    if (left === 0) return 0;
    const rate = this.shardsPerSecond;
    return rate > 0 ? Math.round((left / rate) * 10) / 10 : null;
  }

  /** Global leaf index of shard `i` of stage `stage`. */
  leafIndex(stage: number, i: number): number {
    return (this.offsets[stage] as number) + i;
  }

  /** (stage, shard) of a global leaf index. */
  locate(leaf: number): { stage: number; shard: number } {
    return locateLeaf(this.plan, leaf);
  }

  private dispatch(cursor: StageCursor): boolean {
    if (this.state !== 'running') return false;
    const batch = cursor.take(this.batchSize, Date.now());
    if (cursor.broken) {
      cursor.requeue(batch, Date.now());
      this.stop('failed', cursor.broken);
      return false;
    }
    if (batch.size === 0) return false;
    const stage = cursor.stage;
    cursor.inFlight += batch.size;
    this.inFlightShards += batch.size;
    const task: Omit<ShardBatchTask, 'slot'> = {
      t: 'shards',
      plan_id: this.planId,
      stage_index: stage.index,
      kind: stage.kind,
      executor: stage.executor,
      module: stage.executorModule,
      config: stage.config,
      config_digest: stage.executorConfigDigest,
      memo_lookup: stage.memo,
      memo_record: stage.memo,
      timeout_ms: stage.timeout_ms,
      max_attempts: stage.retries + 1,
      runs: batch.runs,
      ...(batch.inputs ? { inputs: batch.inputs } : { partitioner: stage.workerPartitioner }),
    };
    const settle = (result: ShardBatchResult | undefined, error: unknown): void => {
      cursor.inFlight -= batch.size;
      this.inFlightShards -= batch.size;
      try {
        if (result) this.absorb(cursor, batch, result);
        else this.recover(cursor, batch, error);
      } catch (err) {
        // A bug here must end the plan visibly, never leave it hanging.
        this.stop('failed', `internal error handling a batch of ${stage.id}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        this.scheduler.settled();
        this.checkFinished();
      }
    };
    this.pool.runTask<ShardBatchTask>(task, { itemTimeoutMs: stage.timeout_ms }).then(
      (r) => settle(r as ShardBatchResult, undefined),
      (e: unknown) => settle(undefined, e),
    );
    return true;
  }

  /** Takes in a batch's results: leaves, counts, retries, events. */
  private absorb(cursor: StageCursor, batch: ShardRuns, r: ShardBatchResult): void {
    const stage = cursor.stage;
    const progress = this.stages[stage.index] as StageProgress;
    const common = { plan_id: this.planId, stage_id: stage.id };
    // Leaves of a run are contiguous in the plan's leaves (zero where a shard
    // did not finish, and its slot was zero already): one copy per run.
    const leafBase = this.leafIndex(stage.index, 0);
    for (let run = 0, j = 0; run < batch.runs.length; run += 3) {
      const [first, count] = [batch.runs[run] as number, batch.runs[run + 1] as number];
      this.leafView.set(r.leaves.subarray(j * 32, (j + count) * 32), (leafBase + first) * 32);
      j += count;
    }
    const fresh: number[] = [];
    const done: number[] = [];
    const reused = new Uint8Array(r.n);
    const failed: { cas_id: string; error: string; attempt: number; final: boolean }[] = [];
    const errors = new Map(r.errors.map((e) => [e.j, e]));
    const now = Date.now();
    let ms = 0;
    forEachShard(batch, (j, i, a) => {
      if (a === 1) fresh.push(j);
      const took = r.ms[j] ?? 0;
      ms += took;
      progress.latency.record(took);
      const outcome = r.outcome[j] as Outcome;
      if (outcome === Outcome.Done || outcome === Outcome.Reused) {
        cursor.shardEnded();
        progress.done++;
        done.push(j);
        if (outcome === Outcome.Reused) {
          progress.reused++;
          reused[j] = 1;
        }
      } else {
        const casId = casIdAt(r.cas, j);
        const error = errors.get(j)?.message ?? 'unknown error';
        const final = outcome === Outcome.Failed;
        failed.push({ cas_id: casId, error, attempt: a, final });
        if (final) this.recordFailure(cursor, i, a, casId, error);
        else cursor.retry(batch, j, i, a + 1, stage.backoff_ms * 2 ** (a - 1), now);
      }
    });
    this.tuneBatchSize(ms / Math.max(1, r.n));
    this.events.addMany('hxo.shard.created', { ...common, phase: 'pending' }, casIdItems(r.cas, fresh.length === r.n ? 'all' : fresh));
    this.events.addMany('hxo.shard.claimed', common, casIdItems(r.cas, 'all'));
    if (done.length) this.events.addMany('hxo.shard.done', common, doneItems(r.cas, r.digests, reused, done.length === r.n ? 'all' : done));
    if (failed.length) this.events.addMany('hxo.shard.failed', common, failed);
  }

  /**
   * A batch that came back as an error. When we know which shard its thread
   * was on (the one that hung or killed it), that shard has used an attempt
   * and the others simply run again. When we do not (the batch itself failed),
   * every shard of it has used an attempt, so nothing retries forever.
   */
  private recover(cursor: StageCursor, batch: ShardRuns, error: unknown): void {
    const stage = cursor.stage;
    const now = Date.now();
    const culprit = error instanceof ItemTimeoutError || error instanceof ThreadDiedError ? error.position : -1;
    const reason = error instanceof ItemTimeoutError ? `timeout after ${stage.timeout_ms / 1000}s` : error instanceof Error ? error.message : String(error);
    const common = { plan_id: this.planId, stage_id: stage.id };
    forEachShard(batch, (j, i, a) => {
      if (culprit >= 0 && j !== culprit) {
        cursor.retry(batch, j, i, a, 0, now);
        return;
      }
      const final = a >= stage.retries + 1;
      // The thread died before the shard's cas_id came back: compute it here.
      const { casId } = shardAddress(stage.kind, stage.executor, cursor.inputOf(batch, j, i));
      if (a === 1) this.events.add('hxo.shard.created', { ...common, phase: 'pending' }, casId);
      this.events.add('hxo.shard.claimed', common, casId);
      this.events.add('hxo.shard.failed', common, { cas_id: casId, error: reason, attempt: a, final });
      if (final) {
        this.recordFailure(cursor, i, a, casId, reason);
        this.persistFailure(stage.index, i, casId, reason, a);
      } else {
        cursor.retry(batch, j, i, a + 1, stage.backoff_ms * 2 ** (a - 1), now);
      }
    });
  }

  private recordFailure(cursor: StageCursor, i: number, attempts: number, casId: string, error: string): void {
    const stage = cursor.stage;
    cursor.shardEnded();
    (this.stages[stage.index] as StageProgress).failed++;
    if (this.failed.length < FAILED_LIST_CAP) {
      this.failed.push({ stage_id: stage.id, shard_index: i, cas_id: casId, error, attempts });
    }
  }

  /** Batches of about TARGET_BATCH_MS: big for fast shards, small for slow ones. */
  private tuneBatchSize(perShardMs: number): void {
    this.perShardMsEma = this.perShardMsEma === 0 ? perShardMs : 0.8 * this.perShardMsEma + 0.2 * perShardMs;
    const ideal = this.perShardMsEma > 0 ? TARGET_BATCH_MS / this.perShardMsEma : MAX_BATCH;
    this.batchSize = Math.max(1, Math.min(MAX_BATCH, Math.round(ideal)));
  }

  private checkFinished(): void {
    const drained = this.cursors.every((c) => c.inFlight === 0);
    const allEnded = this.cursors.every((c) => c.finished);
    if (((this.state === 'aborted' || this.state === 'failed') && drained) || (this.state === 'running' && allEnded)) {
      const now = Date.now();
      for (const s of this.stages) s.finished_at ??= now;
      for (const s of this.sources) this.scheduler.remove(s);
      this.finish();
    }
  }
}

