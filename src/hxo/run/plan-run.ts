/**
 * One live plan: its stages' shards flow through the scheduler to the pool,
 * results come back, leaves land in shared memory, and when every shard has
 * ended the plan is certified (or fails, or was aborted).
 *
 * The run coordinates; the work is in its parts:
 * - stage-cursor.ts: each stage's shards to take, and to retry;
 * - batch-outcome.ts: what a batch that came back does to the plan (a shard
 *   is counted once; per shard, events go out created → claimed → done | failed);
 * - run-leaves.ts: the fixed slot of every shard's leaf, so the root depends
 *   only on the shard set;
 * - run-split.ts: splits (auto-tuning): a split shard leaves its cursor at
 *   once, and its sub-shards run only once the split is journaled (here);
 * - run-flights.ts: the batches out in the pool; run-progress.ts: counts,
 *   rates and the batch size;
 * - run-lifecycle.ts: the lifecycle (plan-lifecycle.ts), moved on only by
 *   `send`; the run acts on each change.
 */
import type { EventBatcher } from '../../kernel/event-batcher.ts';
import type { EventMeta } from '../../core/event.ts';
import type { WorkerPool } from '../../kernel/worker-pool.ts';
import type { ResolvedPlan, ResolvedStage } from '../plan/plan.ts';
import type { Partitioner } from '../partitioners/partitioner.ts';
import type { LeafLayout, SplitRecord } from '../checkpoints/leaf-layout.ts';
import { shardAddress } from '../plan/address.ts';
import type { JobKindRegistry } from '../plan/job-kinds.ts';
import { StageCursor } from './stage-cursor.ts';
import type { ShardBatchResult, ShardBatchTask } from './shard-batch.ts';
import type { BatchSource, Scheduler } from './scheduler.ts';
import type { MemoSource } from '../checkpoints/memo.ts';
import type { Resumed } from '../checkpoints/plan-checkpoints.ts';
import { claiming, type PlanLifecycle, type PlanPhase } from './plan-lifecycle.ts';
import { LiveLifecycle, type RunLifecycle } from './run-lifecycle.ts';
import { BatchOutcomes, type PlanRunHooks } from './batch-outcome.ts';
import type { FailedShard } from '../checkpoints/plan-checkpoints.ts';
import { RunProgress, type StageProgress } from './run-progress.ts';
import { RunLeaves } from './run-leaves.ts';
import { Flights, type RunningShard } from './run-flights.ts';
import { RunSplits } from './run-split.ts';
import { LeafWatch } from './leaf-watch.ts';
import type { LeafStates } from '../leaves/leaf-states.ts';
import { slotOffsets } from '../leaves/slots.ts';

export type PlanState = PlanPhase;

export type SplitOutcome = { ok: true; record: SplitRecord; casId: string; firstLeaf: number } | { ok: false; reason: string };

export class PlanRun extends LiveLifecycle {
  private readonly progress: RunProgress;
  private readonly runLeaves: RunLeaves;
  private readonly outcomes: BatchOutcomes;
  private readonly splits: RunSplits;
  private readonly flights = new Flights();
  private readonly sources = new Map<StageCursor, BatchSource>();
  /** Splits being journaled: their sub-shards wait, and the plan cannot end. */
  private journaling = 0;
  private started = false;
  /** The leaf map, kept up to date once somebody asked for it (`watchLeaves`). */
  private watch: LeafWatch | undefined;
  private readonly onStarted: (() => void) | undefined;
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
    hooks: PlanRunHooks,
    /** Per stage, the earlier run its shards' outputs may be reused from (memo.ts). */
    readonly memoSources: readonly (MemoSource | undefined)[],
    lifecycle: RunLifecycle,
  ) {
    super(lifecycle);
    this.runLeaves = new RunLeaves(resumed.leaves, resumed.subLeaves, plan);
    const partitioners = plan.stages.map((s) => {
      const partitioner = registry.get(s.kind)?.partitioners[s.partitioner];
      if (!partitioner) throw new Error(`stage ${s.id}: partitioner ${s.partitioner} vanished from the registry`);
      return partitioner;
    });
    const cursors = plan.stages.map((s, i) => new StageCursor(s, partitioners[i] as Partitioner, resumed.ended[i] as Uint8Array));
    this.progress = new RunProgress(plan, layout, resumed.stages);
    this.splits = new RunSplits(plan, layout, partitioners, cursors, resumed.subEnded, this.runLeaves, this.progress.stages, this.flights);
    this.outcomes = new BatchOutcomes(planId, events, hooks, this.progress, this.runLeaves, layout);
    this.onStarted = resumed.started;
    const ended = new Promise<void>((resolve) => (this.finish = resolve));
    // Certified only with every leaf in (a node that stops does not wait for them); a failure to read them is kept, not left unhandled.
    const leaves = resumed.leavesLoaded?.then(
      () => undefined,
      (err: unknown) => err ?? new Error('unknown error'),
    );
    this.executed = leaves ? ended.then(async () => (this.interrupted ? undefined : this.leavesIn(await leaves))) : ended;
    for (const cursor of [...cursors, ...this.splits.cursors]) if (cursor) this.addSource(cursor);
  }

  start(): void {
    this.started = true;
    for (const s of this.sources.values()) this.scheduler.add(s);
    this.onStarted?.();
    this.checkFinished();
  }

  /** Per stage: counts, latencies, when it started and finished. */
  get stages(): StageProgress[] {
    return this.progress.stages;
  }

  /** The shards that failed for good (the first thousand). */
  get failed(): FailedShard[] {
    return this.outcomes.failed;
  }

  /** Claims again once the lifecycle allows it, or ends once drained. */
  protected override moved(before: PlanLifecycle): void {
    if (this.claiming && !claiming(before)) this.scheduler.kick();
    this.checkFinished();
  }

  /** A run whose leaves of earlier runs could not be read fails, saying why (it cannot be certified). */
  private leavesIn(error: unknown): void {
    if (error === undefined || this.state !== 'running') return;
    this.fail(`leaves of earlier runs not read: ${error instanceof Error ? error.message : String(error)}`);
  }

  get counts(): { total: number; done: number; failed: number; reused: number; inFlight: number; pending: number } {
    return this.progress.counts;
  }

  /** Shards running right now (one per active pool slot of this plan) vs merely claimed. */
  get running(): number {
    return Math.min(this.progress.inFlight, this.pool.size);
  }

  /** Shards per second, smoothed. */
  get shardsPerSecond(): number {
    return this.progress.shardsPerSecond;
  }

  get etaSeconds(): number | null {
    return this.progress.etaSeconds(this.pausedReason !== undefined);
  }

  /** The plan's leaves in its layout (a copy when shards were split). */
  get leaves(): SharedArrayBuffer {
    return this.runLeaves.all(this.layout);
  }

  /**
   * The plan's leaf map, kept up to date from now on: made once by `build`
   * (from the checkpoints), with the batches out now marked running.
   */
  watchLeaves(build: () => LeafStates): LeafStates {
    if (!this.watch) {
      this.watch = new LeafWatch(build(), slotOffsets(this.plan), this.layout);
      for (const f of this.flights.all()) this.watch.claimed(f.cursor, f.batch);
    }
    return this.watch.states;
  }

  /** Every shard of this plan running now, with how long it has run. */
  runningShards(now = Date.now()): RunningShard[] {
    return this.flights.running(this.pool.board, this.layout, now);
  }

  /**
   * Splits shard `shard` of stage `stage` (not ended, not split) into at
   * most `factor` sub-shards, in place (seed 000 flow 4): it is taken out at
   * once (its batch cancelled if running), the split is journaled by
   * `journal`, and then its sub-shards run.
   */
  async split(stage: number, shard: number, factor: number, journal: (record: SplitRecord) => Promise<void>): Promise<SplitOutcome> {
    if (this.state !== 'running') return { ok: false, reason: `the plan is ${this.state}` };
    const cut = this.splits.cut(stage, shard, factor);
    if (!cut.ok) return cut;
    if (cut.added) this.addSource(cut.added);
    this.watch?.split(stage, shard);
    const s = this.plan.stages[stage] as ResolvedStage;
    this.journaling++;
    try {
      await journal(cut.record);
    } catch (err) {
      this.fail(`split of shard ${shard} of ${s.id} not journaled: ${err instanceof Error ? err.message : String(err)}`);
      return { ok: false, reason: 'the split could not be journaled' };
    } finally {
      this.journaling--;
      this.scheduler.kick();
      this.checkFinished();
    }
    return { ok: true, record: cut.record, casId: shardAddress(s.kind, s.executor, cut.input).casId, firstLeaf: this.layout.leafOf(stage, shard) };
  }

  /** A cursor's batches go to the scheduler (at once if the run has started). */
  private addSource(cursor: StageCursor): void {
    const isSub = cursor.inSplitSpace;
    const source: BatchSource = {
      id: `${this.planId}:${cursor.stage.id}${isSub ? ':splits' : ''}`,
      dispatch: () => (isSub && this.journaling > 0 ? false : this.dispatchOrCrash(cursor)),
      readyAt: () => (this.claiming ? cursor.nextRetryAt : undefined),
    };
    this.sources.set(cursor, source);
    if (this.started) this.scheduler.add(source);
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
    const batch = cursor.take(this.progress.batchSize, Date.now());
    if (cursor.broken) {
      cursor.requeue(batch, Date.now());
      this.fail(cursor.broken);
      return false;
    }
    if (batch.size === 0) return false;
    const stage = cursor.stage;
    const memo = this.memoSources[stage.index];
    cursor.inFlight += batch.size;
    this.progress.inFlight += batch.size;
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
    const flight = this.flights.add(cursor, batch);
    this.watch?.claimed(cursor, batch);
    const settle = (result: ShardBatchResult | undefined, error: unknown): void => {
      this.flights.delete(flight);
      cursor.inFlight -= batch.size;
      this.progress.inFlight -= batch.size;
      try {
        this.outcomes.receive(cursor, batch, result, error);
        this.watch?.settled(cursor, batch, result);
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

  private checkFinished(): void {
    const cursors = [...this.sources.keys()];
    const drained = cursors.every((c) => c.inFlight === 0);
    const allEnded = this.journaling === 0 && cursors.every((c) => c.finished);
    const halted = this.interrupted && drained && this.journaling === 0;
    if (((this.state === 'aborted' || this.state === 'failed') && drained) || (this.state === 'running' && (allEnded || halted))) {
      this.progress.finish(Date.now());
      for (const s of this.sources.values()) this.scheduler.remove(s);
      this.finish();
    }
  }
}
