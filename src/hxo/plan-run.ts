/**
 * One live plan: its stages' shards flow through the scheduler to the pool,
 * results come back, leaves land in shared memory, and when every shard has
 * ended the plan is certified (or fails, or was aborted).
 *
 * Invariants:
 * - A shard is counted once: `ended` marks it when its final outcome arrives,
 *   and a resumed plan starts with the marks its checkpoints imply.
 * - A shard's leaf has a fixed slot whatever the order of completion, so the
 *   root depends only on the shard set: unsplit shards in `baseLeaves` (stage
 *   after stage, by index), sub-shards of split shards in their stage's
 *   `subLeaves` (by split-space number); `leaves` lays them out (leaf-layout.ts).
 * - Per shard, events go out created → claimed → done | failed (seed 000).
 * - A split (auto-tuning) takes the shard out of its cursor at once — a batch
 *   running it is cancelled, and whatever comes back for it is ignored — and
 *   its sub-shards run only once the split is journaled.
 */
import type { EventBatcher } from '../kernel/event-batcher.ts';
import type { EventMeta } from '../core/event.ts';
import type { WorkerPool } from '../kernel/worker-pool.ts';
import { BystanderError, ItemTimeoutError, TaskCancelledError, ThreadDiedError } from '../kernel/worker-pool.ts';
import { deserializeError, serializeError } from '../core/errors.ts';
import type { ResolvedPlan, ResolvedStage } from './plan.ts';
import type { Partitioner } from './partitioners.ts';
import type { LeafLayout, SplitRecord } from './leaf-layout.ts';
import { casIdAt, shardAddress } from './address.ts';
import type { JobKindRegistry } from './job-kinds.ts';
import { StageCursor, forEachShard, type ShardRuns } from './stage-cursor.ts';
import { Outcome, type ShardBatchResult, type ShardBatchTask } from './shard-batch.ts';
import type { BatchSource, Scheduler } from './scheduler.ts';
import { LatencyHistogram } from './latency.ts';
import { RowPicker, casIdItems, doneItems } from './shard-event-items.ts';
import { shardKey } from './checkpoint-summary.ts';
import type { MemoSource } from './memo.ts';
import type { StorageFullError } from '../store/errors.ts';
import type { ShardFailure } from './checkpoint-records.ts';
import type { Clock } from '../core/clock.ts';
import { claiming, transition, type LifecycleEvent, type PlanLifecycle, type PlanPhase } from './plan-lifecycle.ts';

export type PlanState = PlanPhase;

export interface FailedShard {
  stage_id: string;
  shard_index: number;
  /** Which of the split shard's sub-shards. */
  sub_shard?: number;
  cas_id: string;
  error: string;
  /** The error's class and code (`NonRetryableError`, `INPUT_CHANGED`), where known. */
  error_class?: string;
  error_code?: string;
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

/** What a previous run of the plan left: ended marks, leaves, counts (engine.ts scans the checkpoints). */
export interface Resumed {
  /** Per stage: 1 where the shard already ended, or was split. */
  ended: Uint8Array[];
  /** Per stage: 1 where a sub-shard (by split-space number) already ended. */
  subEnded: Uint8Array[];
  /** Leaves of unsplit shards, stage after stage. */
  leaves: SharedArrayBuffer;
  /** Leaves of sub-shards, per stage by split-space number. */
  subLeaves: Uint8Array[];
  stages: { done: number; failed: number; reused: number }[];
  /** Resolves once `leaves` holds the leaves of every shard that ended before (they may load while the run goes on). */
  leavesLoaded?: Promise<void>;
  /** Called as the run starts: work on what earlier runs left that waits until the first batches are out. */
  started?: () => void;
}

/** A shard running now, as the progress board sees it. */
export interface RunningShard {
  stage: number;
  shard: number;
  /** Set for a sub-shard: its place among its split shard's sub-shards. */
  sub?: number;
  elapsedMs: number;
  /** Its content address (computed on request: off the hot path). */
  casId(): string;
}

/** What a run asks of its engine. */
export interface PlanRunHooks {
  /** Persists a failure found on this thread (a shard whose thread died under it), by checkpoint key. */
  persistFailure(keyStage: number, index: number, casId: string, failure: ShardFailure, attempts: number): void;
  /** A batch's checkpoints found the store full: nothing of it counted, and it runs again once the plan is unpaused. */
  storageFull(err: StorageFullError): void;
}

export type SplitOutcome = { ok: true; record: SplitRecord; casId: string; firstLeaf: number } | { ok: false; reason: string };

interface Flight {
  cursor: StageCursor;
  batch: ShardRuns;
  cancel: AbortController;
  /** Progress-board slot, once the pool gave one. */
  slot: number;
}

const TARGET_BATCH_MS = 40;
const MAX_BATCH = 4096;
const FAILED_LIST_CAP = 1000;

/** The run's lifecycle to start from (plan-lifecycle.ts), and the clock its transitions are timed by. */
export interface RunLifecycle {
  initial: PlanLifecycle;
  clock: Clock;
}

export class PlanRun {
  readonly stages: StageProgress[];
  readonly failed: FailedShard[] = [];
  /** Where the run is in its lifecycle: changed only by `send`. */
  private life: PlanLifecycle;
  /** What this incarnation crashed with (its lifecycle holds the message). */
  private crashError: Error | undefined;
  private readonly baseLeaves: SharedArrayBuffer;
  private readonly baseView: Uint8Array;
  private readonly subLeaves: Uint8Array[];
  private readonly baseOffsets: number[] = [];
  private readonly cursors: StageCursor[];
  /** Per stage, the cursor of its sub-shards, once it has any. */
  private readonly subCursors: (StageCursor | undefined)[];
  private readonly partitioners: Partitioner[];
  private readonly sources = new Map<StageCursor, BatchSource>();
  private readonly flights = new Set<Flight>();
  /** Splits being journaled: their sub-shards wait, and the plan cannot end. */
  private journaling = 0;
  private started = false;
  private readonly onStarted: (() => void) | undefined;
  private inFlightShards = 0;
  private batchSize = 64;
  private perShardMsEma = 0;
  private rate = 0;
  private lastRateAt = Date.now();
  private lastRateDone = 0;
  private finish!: () => void;
  /** Resolves when every shard has ended (or the plan was aborted and in-flight work drained). */
  readonly executed: Promise<void>;

  /** The meta every event of this run carries, its shard events' and the rest: the correlation id of the submit or resume that started it. */
  get eventMeta(): EventMeta {
    return this.events.meta;
  }

  constructor(
    readonly planId: string,
    readonly plan: ResolvedPlan,
    registry: JobKindRegistry,
    /** Where each leaf goes: the plan's stages after the splits journaled so far. */
    readonly layout: LeafLayout,
    resumed: Resumed,
    private readonly pool: WorkerPool,
    private readonly scheduler: Scheduler,
    private readonly events: EventBatcher,
    private readonly hooks: PlanRunHooks,
    /** Per stage, the earlier run its shards' outputs may be reused from (memo.ts). */
    readonly memoSources: readonly (MemoSource | undefined)[],
    private readonly lifecycle: RunLifecycle,
  ) {
    this.life = lifecycle.initial;
    this.baseLeaves = resumed.leaves;
    this.baseView = new Uint8Array(this.baseLeaves);
    this.subLeaves = resumed.subLeaves;
    let offset = 0;
    for (const s of plan.stages) {
      this.baseOffsets.push(offset);
      offset += s.shardCount;
    }
    this.partitioners = plan.stages.map((s) => {
      const partitioner = registry.get(s.kind)?.partitioners[s.partitioner];
      if (!partitioner) throw new Error(`stage ${s.id}: partitioner ${s.partitioner} vanished from the registry`);
      return partitioner;
    });
    this.cursors = plan.stages.map((s, i) => new StageCursor(s, this.partitioners[i] as Partitioner, resumed.ended[i] as Uint8Array));
    this.subCursors = plan.stages.map((s, i) => {
      const records = layout.records().filter((r) => r.stage === i);
      if (records.length === 0) return undefined;
      const inputs = new Array<unknown>(layout.nextSubNumber(i));
      for (const r of records) {
        const parts = this.splitInput(s, (this.cursors[i] as StageCursor).inputAt(r.shard), r.factor);
        if (parts.length !== r.parts) throw new Error(`stage ${s.id}: the journal says shard ${r.shard} was split into ${r.parts}, its partitioner now gives ${parts.length}`);
        parts.forEach((input, k) => (inputs[r.first + k] = input));
      }
      return StageCursor.forSplits(s, this.partitioners[i] as Partitioner, inputs, resumed.subEnded[i] as Uint8Array);
    });
    const now = Date.now();
    this.stages = plan.stages.map((s, i) => ({
      stage_id: s.id,
      kind: s.kind,
      total: layout.stageTotal(i),
      done: resumed.stages[i]?.done ?? 0,
      failed: resumed.stages[i]?.failed ?? 0,
      reused: resumed.stages[i]?.reused ?? 0,
      started_at: now,
      latency: new LatencyHistogram(),
    }));
    this.onStarted = resumed.started;
    const ended = new Promise<void>((resolve) => (this.finish = resolve));
    // Certified only with every leaf in (a node that stops does not wait for them); a failure to read them is kept, not left unhandled.
    const leaves = resumed.leavesLoaded?.then(
      () => undefined,
      (err: unknown) => err ?? new Error('unknown error'),
    );
    this.executed = leaves ? ended.then(async () => (this.interrupted ? undefined : this.leavesIn(await leaves))) : ended;
    for (const cursor of [...this.cursors, ...this.subCursors]) if (cursor) this.addSource(cursor);
  }

  start(): void {
    this.started = true;
    for (const s of this.sources.values()) this.scheduler.add(s);
    this.onStarted?.();
    this.checkFinished();
  }

  /** A run whose leaves of earlier runs could not be read fails, saying why (it cannot be certified). */
  private leavesIn(error: unknown): void {
    if (error === undefined || this.state !== 'running') return;
    this.stop('failed', `leaves of earlier runs not read: ${error instanceof Error ? error.message : String(error)}`);
  }

  get state(): PlanState {
    return this.life.phase;
  }

  /** Why the plan ended aborted or failed. */
  get abortReason(): string | undefined {
    return this.life.reason;
  }

  /** The lifecycle now (what the plan actor persists across its restarts). */
  get lifecycleNow(): PlanLifecycle {
    return this.life;
  }

  /** Moves the lifecycle on (plan-lifecycle.ts) and acts on the change: claims again, or ends once drained. */
  send(event: LifecycleEvent): void {
    const before = this.life;
    this.life = transition(before, event, this.lifecycle.clock.now());
    if (this.life === before) return;
    if (claiming(this.life) && !claiming(before)) this.scheduler.kick();
    this.checkFinished();
  }

  /** Stops claiming shards; running batches finish (or time out). */
  abort(reason: string): void {
    this.send({ type: 'abort', reason });
  }

  /**
   * Something in the run's own handling threw (a bug, or a partitioner
   * that failed while taking inputs): nothing more is claimed, running
   * batches drain and are checkpointed, and then `executed` resolves with
   * `crashedWith` set — the plan actor crashes, and its supervisor starts a
   * new run from the checkpoints.
   */
  crash(error: unknown): void {
    this.crashError ??= error instanceof Error ? error : new Error(String(error));
    this.send({ type: 'crash', error: this.crashError.message });
  }

  /** The error this run crashed with, once it has drained. */
  get crashedWith(): Error | undefined {
    return this.crashError;
  }

  /**
   * The node is stopping: no more shards are claimed, and the run ends once
   * its running batches have (their checkpoints written). Unlike an abort
   * it leaves no mark: the plan stays unfinished, and resumes at the next start.
   */
  halt(): void {
    this.send({ type: 'halt' });
  }

  /**
   * No more shards are claimed until `unpause` (the store is full); running
   * batches finish, and what they could not checkpoint runs again later. A
   * paused run is not over: it ends only once its shards have.
   */
  pause(reason: string): void {
    this.send({ type: 'pause', reason });
  }

  unpause(): void {
    this.send({ type: 'unpause' });
  }

  /** Why the run claims no shards for now, if it is paused. */
  get pausedReason(): string | undefined {
    return this.life.pausedFor;
  }

  /** Whether the run ended because the node is stopping (halt), not because its shards did. */
  get wasHalted(): boolean {
    return this.life.halted;
  }

  /** Halted or crashed: the run ends once drained, with its shards not all ended. */
  private get interrupted(): boolean {
    return this.life.halted || this.life.crashed !== undefined;
  }

  private stop(state: 'aborted' | 'failed', reason: string): void {
    this.send({ type: state === 'aborted' ? 'abort' : 'fail', reason });
  }

  get counts(): { total: number; done: number; failed: number; reused: number; inFlight: number; pending: number } {
    const total = this.layout.total;
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
    if (this.life.pausedFor !== undefined) return null;
    const rate = this.shardsPerSecond;
    return rate > 0 ? Math.round((left / rate) * 10) / 10 : null;
  }

  /** The plan's leaves in its layout (a copy when shards were split). */
  get leaves(): SharedArrayBuffer {
    return this.layout.hasSplits ? this.layout.expand(this.baseView, this.subLeaves) : this.baseLeaves;
  }

  /** Every shard of this plan running now, with how long it has run. */
  runningShards(now = Date.now()): RunningShard[] {
    const out: RunningShard[] = [];
    for (const f of this.flights) {
      if (f.slot < 0) continue;
      const { startedAt, position } = this.pool.board.read(f.slot);
      if (startedAt === 0) continue;
      const { cursor, batch } = f;
      const i = shardAt(batch, position);
      if (i < 0 || cursor.isWithdrawn(i)) continue;
      const stage = cursor.stage;
      out.push({
        stage: stage.index,
        ...this.place(cursor, i),
        elapsedMs: now - startedAt,
        casId: () => shardAddress(stage.kind, stage.executor, cursor.inputOf(batch, position, i)).casId,
      });
    }
    return out;
  }

  /**
   * Splits shard `shard` of stage `stage` (not ended, not split) into at
   * most `factor` sub-shards, in place (seed 000 flow 4): it is taken out at
   * once (its batch cancelled if running), the split is journaled by
   * `journal`, and then its sub-shards run.
   */
  async split(stage: number, shard: number, factor: number, journal: (record: SplitRecord) => Promise<void>): Promise<SplitOutcome> {
    const s = this.plan.stages[stage];
    if (this.state !== 'running') return { ok: false, reason: `the plan is ${this.state}` };
    if (!s) return { ok: false, reason: `the plan has no stage ${stage}` };
    if (!s.splittable) return { ok: false, reason: `stage ${s.id} cannot be split: its partitioner ${s.partitioner} cannot split an input, or its work is not idempotent` };
    if (!Number.isInteger(shard) || shard < 0 || shard >= s.shardCount) return { ok: false, reason: `stage ${s.id} has no shard ${shard} (0..${s.shardCount - 1})` };
    if (this.layout.split(stage, shard)) return { ok: false, reason: `shard ${shard} of ${s.id} is split already` };
    const cursor = this.cursors[stage] as StageCursor;
    if (cursor.hasEnded(shard)) return { ok: false, reason: `shard ${shard} of ${s.id} has ended already` };
    const input = cursor.inputAt(shard);
    const inputs = this.splitInput(s, input, factor);
    if (inputs.length < 2) return { ok: false, reason: `shard ${shard} of ${s.id} is too small to split` };
    const record: SplitRecord = { stage, shard, parts: inputs.length, first: this.layout.nextSubNumber(stage), factor };
    cursor.withdraw(shard);
    for (const f of this.flights) {
      if (f.cursor !== cursor) continue;
      forEachShard(f.batch, (_j, i) => {
        if (i === shard) f.cancel.abort();
      });
    }
    this.layout.add(record);
    const progress = this.stages[stage] as StageProgress;
    progress.total += record.parts - 1;
    this.growSubLeaves(stage, record.first + record.parts);
    let subs = this.subCursors[stage];
    if (subs) subs.extend(inputs);
    else {
      // A stage's first split: its split space starts here.
      subs = StageCursor.forSplits(s, this.partitioners[stage] as Partitioner, inputs, new Uint8Array(inputs.length));
      this.subCursors[stage] = subs;
      this.addSource(subs);
      if (this.started) this.scheduler.add(this.sources.get(subs) as BatchSource);
    }
    this.journaling++;
    try {
      await journal(record);
    } catch (err) {
      this.stop('failed', `split of shard ${shard} of ${s.id} not journaled: ${err instanceof Error ? err.message : String(err)}`);
      return { ok: false, reason: 'the split could not be journaled' };
    } finally {
      this.journaling--;
      this.scheduler.kick();
      this.checkFinished();
    }
    return { ok: true, record, casId: shardAddress(s.kind, s.executor, input).casId, firstLeaf: this.layout.leafOf(stage, shard) };
  }

  /** A shard's input cut `factor` ways by its stage's partitioner: its sub-shards' inputs. */
  private splitInput(stage: ResolvedStage, input: unknown, factor: number): unknown[] {
    const split = (this.partitioners[stage.index] as Partitioner).split;
    if (!split) throw new Error(`stage ${stage.id}: partitioner ${stage.partitioner} cannot split`);
    return split(stage.config, input, factor);
  }

  private growSubLeaves(stage: number, numbers: number): void {
    const now = this.subLeaves[stage];
    if (now && now.length >= numbers * 32) return;
    const grown = new Uint8Array(numbers * 32);
    if (now) grown.set(now);
    this.subLeaves[stage] = grown;
  }

  /** A shard of a cursor as the plan names it: its index, and for a sub-shard its place among its split's. */
  private place(cursor: StageCursor, i: number): { shard: number; sub?: number } {
    if (!cursor.inSplitSpace) return { shard: i };
    const r = this.layout.splitOfNumber(cursor.stage.index, i) as SplitRecord;
    return { shard: r.shard, sub: i - r.first };
  }

  private addSource(cursor: StageCursor): void {
    const isSub = cursor.inSplitSpace;
    this.sources.set(cursor, {
      id: `${this.planId}:${cursor.stage.id}${isSub ? ':splits' : ''}`,
      dispatch: () => (isSub && this.journaling > 0 ? false : this.dispatchOrCrash(cursor)),
      readyAt: () => (this.claiming ? cursor.nextRetryAt : undefined),
    });
  }

  /** Whether shards may be claimed now. */
  private get claiming(): boolean {
    return claiming(this.life);
  }

  /** A throw while taking a batch (a partitioner's, or a bug) crashes this run, not the scheduler every plan shares. */
  private dispatchOrCrash(cursor: StageCursor): boolean {
    try {
      return this.dispatch(cursor);
    } catch (err) {
      this.crash(err);
      return false;
    }
  }

  private dispatch(cursor: StageCursor): boolean {
    if (!this.claiming) return false;
    const batch = cursor.take(this.batchSize, Date.now());
    if (cursor.broken) {
      cursor.requeue(batch, Date.now());
      this.stop('failed', cursor.broken);
      return false;
    }
    if (batch.size === 0) return false;
    const stage = cursor.stage;
    const memo = this.memoSources[stage.index];
    cursor.inFlight += batch.size;
    this.inFlightShards += batch.size;
    const task: Omit<ShardBatchTask, 'slot'> = {
      t: 'shards',
      plan_id: this.planId,
      stage_index: cursor.keyStage,
      kind: stage.kind,
      executor: stage.executor,
      module: stage.executorModule,
      config: stage.config,
      ...(memo ? { memo } : {}),
      timeout_ms: stage.timeout_ms,
      max_attempts: stage.retries + 1,
      runs: batch.runs,
      ...(batch.inputs ? { inputs: batch.inputs } : { partitioner: stage.workerPartitioner }),
    };
    const flight: Flight = { cursor, batch, cancel: new AbortController(), slot: -1 };
    this.flights.add(flight);
    const settle = (result: ShardBatchResult | undefined, error: unknown): void => {
      this.flights.delete(flight);
      cursor.inFlight -= batch.size;
      this.inFlightShards -= batch.size;
      try {
        if (result?.unwritten) this.unwritten(cursor, batch, deserializeError(result.unwritten) as StorageFullError);
        else if (result) this.absorb(cursor, batch, result);
        else this.recover(cursor, batch, error);
      } catch (err) {
        // A bug here must never leave the plan hanging: the run crashes, and its supervisor restarts it from the checkpoints.
        this.crash(err);
      } finally {
        this.scheduler.settled();
        this.checkFinished();
      }
    };
    this.pool
      .runTask<ShardBatchTask>(task, { itemTimeoutMs: stage.timeout_ms, signal: flight.cancel.signal, onSlot: (slot) => (flight.slot = slot) })
      .then(
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
    // Leaves of a run are contiguous in their buffer (zero where a shard did
    // not finish, and its slot was zero already): one copy per run. A split
    // shard's slot is never read, so what lands there does not matter.
    const [target, leafBase] = cursor.inSplitSpace ? [this.subLeaves[stage.index] as Uint8Array, 0] : [this.baseView, this.baseOffsets[stage.index] as number];
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
    this.tuneBatchSize(ms / Math.max(1, r.n));
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
    (this.stages[stage.index] as StageProgress).failed++;
    if (this.failed.length < FAILED_LIST_CAP) {
      const { shard, sub } = this.place(cursor, i);
      this.failed.push({ stage_id: stage.id, shard_index: shard, ...(sub !== undefined ? { sub_shard: sub } : {}), cas_id: casId, ...failureFields(failure), attempts });
    }
  }

  /** Batches of about TARGET_BATCH_MS: big for fast shards, small for slow ones. */
  private tuneBatchSize(perShardMs: number): void {
    this.perShardMsEma = this.perShardMsEma === 0 ? perShardMs : 0.8 * this.perShardMsEma + 0.2 * perShardMs;
    const ideal = this.perShardMsEma > 0 ? TARGET_BATCH_MS / this.perShardMsEma : MAX_BATCH;
    this.batchSize = Math.max(1, Math.min(MAX_BATCH, Math.round(ideal)));
  }

  private checkFinished(): void {
    const cursors = [...this.sources.keys()];
    const drained = cursors.every((c) => c.inFlight === 0);
    const allEnded = this.journaling === 0 && cursors.every((c) => c.finished);
    const halted = this.interrupted && drained && this.journaling === 0;
    if (((this.state === 'aborted' || this.state === 'failed') && drained) || (this.state === 'running' && (allEnded || halted))) {
      const now = Date.now();
      for (const s of this.stages) s.finished_at ??= now;
      for (const s of this.sources.values()) this.scheduler.remove(s);
      this.finish();
    }
  }
}

/** The shard index of the j-th shard of a batch (-1 past its end). */
function shardAt(batch: ShardRuns, j: number): number {
  const { runs } = batch;
  for (let r = 0, k = j; r < runs.length; r += 3) {
    const count = runs[r + 1] as number;
    if (k < count) return (runs[r] as number) + k;
    k -= count;
  }
  return -1;
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

/** A failure as reports and events carry it. */
function failureFields(f: ShardFailure): { error: string; error_class: string; error_code: string } {
  return { error: f.message, error_class: f.name, error_code: f.code };
}
