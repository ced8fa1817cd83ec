/**
 * Live plans as actors of the node's tree: `hxo → plan:<id> → run`.
 *
 * `launch` starts a plan as a plan actor (plan-actor.ts) under its own
 * `plan:<id>` supervisor: an incarnation runs the plan's shards from its
 * checkpoints, certifies them, and replays leaves whose stored outputs went
 * bad (up to MAX_REPLAYS rounds); a crash restarts it from the checkpoints
 * (the same root); past HXO_PLAN_MAX_RESTARTS the plan ends failed, with the
 * reason in its report and an `hxo.alert`, and the node and the other plans
 * go on.
 *
 *   const report = await launcher.launch(planId, plan, correlationId, [], true);
 */
import type { Kernel } from '../kernel/kernel.ts';
import { EventBatcher } from '../kernel/event-batcher.ts';
import { StorageFullError } from '../store/errors.ts';
import { RestartIntensityError, Supervisor } from '../kernel/supervisor.ts';
import type { Clock } from '../core/clock.ts';
import { PlanActor, type PlanIncarnation } from './run/plan-actor.ts';
import { initialLifecycle, persistLifecycle, restoreLifecycle, timeboxLeft, type PlanLifecycle } from './run/plan-lifecycle.ts';
import type { Scheduler } from './run/scheduler.ts';
import type { JobKindRegistry } from './plan/job-kinds.ts';
import type { ResolvedPlan } from './plan/plan.ts';
import { PlanRun } from './run/plan-run.ts';
import { loadOrCreateNodeKey, type NodeKey } from './certify/signing.ts';
import { BlockKeys, encodeFailed, writeCheckpoints } from './checkpoints/checkpoint-records.ts';
import { finalStatus, type PlanReport, type PlanStatus, type ReplayedShard } from './report.ts';
import { resumeState } from './run/resume-state.ts';
import { onFinalEventsLogged } from './run/final-events.ts';
import { watchHotspots, type AutotunePolicies } from './autotune/autotune.ts';
import { NodeStoppingError } from './engine-errors.ts';
import type { MemoSource } from './checkpoints/memo.ts';
import { PlanSpace } from './run/storage-pause.ts';
import type { PlanBook } from './plan-book.ts';
import { concludeRun, crashedReport, type ConclusionDeps } from './certify/plan-conclusion.ts';

/** Rounds of bisect-and-replay after a failed certification, at most. */
const MAX_REPLAYS = 2;

export interface LivePlan {
  /** The plan actor's run now (a new one per incarnation, and per replay round). */
  readonly run: PlanRun;
  readonly actor: PlanActor;
  readonly startedAt: string;
  readonly finished: Promise<PlanReport>;
}

export interface LauncherDeps {
  kernel: Kernel;
  book: PlanBook;
  registry: JobKindRegistry;
  autotune: AutotunePolicies;
  /** `hxo`: each live plan's supervisor is its temporary child. */
  supervisor: Supervisor;
  /** The clock plan lifecycles are timed by (timeboxes). */
  clock: Clock;
}

/** What every incarnation of a plan actor shares: the plan, its event batcher, when and how it started, what it replayed. */
interface Rounds {
  planId: string;
  plan: ResolvedPlan;
  events: EventBatcher;
  startedAt: Date;
  t0: number;
  partitionMs: number;
  replayed: ReplayedShard[];
}

/** The actor's run now, replaced by each incarnation and each replay round. */
interface CurrentRun {
  run: PlanRun;
}

export class PlanLauncher {
  readonly live = new Map<string, LivePlan>();
  /** Statuses of ended plans already asked for (an ended plan's status changes only if it runs again). */
  readonly endedStatus = new Map<string, PlanStatus>();
  /** Live plans on a full disk: paused, with the room they need, and unpaused when it is back. */
  readonly space: PlanSpace;
  private readonly scheduler: Scheduler;
  private readonly conclusion: ConclusionDeps;
  private key: NodeKey | undefined;

  constructor(
    private readonly deps: LauncherDeps,
    scheduler: Scheduler,
  ) {
    const { kernel, book } = deps;
    this.scheduler = scheduler;
    this.space = new PlanSpace(kernel, () => [...this.live.values()].map((l) => l.run));
    this.conclusion = { kernel, checkpoints: book.checkpoints, key: () => (this.key ??= loadOrCreateNodeKey(kernel.config.dataDir)) };
  }

  /**
   * Starts a plan as an actor under `hxo`, supervised by its own
   * `plan:<id>` supervisor. Resolves with its report; rejects with
   * NodeStoppingError when the node halts it first.
   */
  launch(planId: string, plan: ResolvedPlan, correlationId: string, alreadyReplayed: ReplayedShard[], memoLookups: boolean): Promise<PlanReport> {
    const { kernel, book, supervisor: plans, clock } = this.deps;
    if (!plans.running) return Promise.reject(new NodeStoppingError(planId, { done: 0, total: plan.totalShards }));
    const startedAt = new Date();
    const memoSources = plan.stages.map((s) => (s.memo && memoLookups ? book.memo.sourceFor(s.memoSalt, planId) : undefined));
    const t0 = performance.now();
    const { config, bus, log } = kernel;
    let unrecorded = 0;
    const events = new EventBatcher(bus, {
      batchSize: config.HXO_EVENT_BATCH_SIZE,
      maxRate: config.HXO_EVENT_MAX_RATE,
      meta: { correlation_id: correlationId },
      onLogged: onFinalEventsLogged(book.checkpoints, planId),
      // Said once per plan: a store that refuses one batch usually refuses the ones after it too.
      // A full store is not said here: the kernel's space watch (or `xyn run`'s last line) says it once.
      onError: (err) => {
        if (err instanceof StorageFullError) return;
        if (unrecorded++ === 0) log.error({ err, plan_id: planId }, 'shard events not recorded (later batches that fail are not logged again)');
      },
    });
    this.endedStatus.delete(planId);
    const live: CurrentRun = { run: this.newRun(planId, plan, events, memoSources, initialLifecycle(clock.now(), plan.timebox_ms)) };
    const rounds: Rounds = { planId, plan, events, startedAt, t0, partitionMs: performance.now() - t0, replayed: [...alreadyReplayed] };
    let settle!: { resolve: (r: PlanReport) => void; reject: (e: unknown) => void };
    const finished = new Promise<PlanReport>((resolve, reject) => (settle = { resolve, reject }));
    const incarnation = (): PlanIncarnation => ({
      run: () => this.runRounds(live, rounds),
      halt: () => live.run.halt(),
      lifecycle: () => live.run.lifecycleNow,
      progress: () => {
        const c = live.run.counts;
        return { ended: c.done + c.failed, inFlight: c.inFlight };
      },
    });
    const again = (_n: number, life: PlanLifecycle): PlanIncarnation => {
      live.run = this.newRun(planId, plan, events, memoSources, life);
      return incarnation();
    };
    const end = (): void => {
      plans.remove(supervisor);
      this.live.delete(planId);
      this.deps.autotune.forget(planId);
    };
    const failed = (err: unknown): void => {
      end();
      settle.reject(err);
    };
    const actor = new PlanActor(planId, incarnation(), again, {
      ended: (report) => {
        end();
        settle.resolve(report);
      },
      halted: (err) => failed(err ?? new NodeStoppingError(planId, { done: live.run.counts.done, total: live.run.counts.total })),
    });
    const supervisor = new Supervisor(`plan:${planId}`, { strategy: 'one_for_one', maxRestarts: config.HXO_PLAN_MAX_RESTARTS, withinMs: config.HXO_PLAN_RESTART_WINDOW_MS, notice: kernel.notice }, [actor]);
    supervisor.onCrash((error) => {
      this.gaveUp(live.run, rounds, error).then((report) => {
        end();
        settle.resolve(report);
      }, failed);
    });
    this.live.set(planId, {
      get run() {
        return live.run;
      },
      actor,
      startedAt: startedAt.toISOString(),
      finished,
    });
    // Starts the actor at once (the supervisors are running): its first run is under way when this returns.
    plans.add(supervisor, { temporary: true }).catch(failed);
    return finished;
  }

  /**
   * One incarnation of a plan actor: its run executes, is certified, and —
   * when certification finds stored outputs that went bad — those leaves run
   * again, up to MAX_REPLAYS rounds. Throws the run's crash (the supervisor
   * restarts the actor) or NodeStoppingError when the node halts it.
   */
  private async runRounds(live: CurrentRun, r: Rounds): Promise<PlanReport> {
    const { planId, plan, events } = r;
    const { kernel, book, autotune, clock } = this.deps;
    const { bus, log } = kernel;
    // Offered to later runs from the start: a run resumed after a crash is a source too.
    await book.writeWhenRoom(() => book.memo.record(planId, plan.stages, r.startedAt.toISOString(), { ended: false, done: [] }));
    for (let round = 0; ; round++) {
      const run = live.run;
      const left = timeboxLeft(run.lifecycleNow, clock.now());
      const timebox = left === undefined ? undefined : setTimeout(() => run.send({ type: 'tick' }), left);
      const unwatch = watchHotspots(run, autotune, (signal) => {
        bus.publish('hxo.autotune.signal', { ...signal }, { actor: 'hxo', ...run.eventMeta }).catch((err: unknown) => log.error({ err }, 'autotune signal not published'));
      });
      run.start();
      await run.executed;
      unwatch();
      clearTimeout(timebox);
      await events.flush();
      if (run.crashedWith) throw run.crashedWith;
      if (run.wasHalted) throw new NodeStoppingError(planId, { done: run.counts.done, total: run.counts.total });
      const times = { partitionMs: r.partitionMs, executeMs: performance.now() - r.t0 - r.partitionMs, t0: r.t0 };
      const { report, badLeaves } = await concludeRun(this.conclusion, run, r.startedAt, times, r.replayed);
      if (badLeaves.length === 0 || round >= MAX_REPLAYS) {
        await this.storeReport(run, report, r.startedAt);
        run.send({ type: 'end', phase: report.state as 'certified' | 'failed' | 'aborted', ...(report.reason !== undefined ? { reason: report.reason } : {}) });
        return report;
      }
      await this.forget(run, badLeaves, r.replayed);
      // Bad leaves run afresh: nothing is reused for them.
      live.run = this.newRun(planId, plan, events, [], restoreLifecycle(persistLifecycle(run.lifecycleNow)));
    }
  }

  /**
   * A plan whose actor crashed past its supervisor's restart intensity ends
   * failed, with the reason in its report and an `hxo.alert`; its
   * checkpoints stay (`xyn resume` goes on from them once the cause is fixed).
   */
  private async gaveUp(run: PlanRun, r: Rounds, error: Error): Promise<PlanReport> {
    const restarts = error instanceof RestartIntensityError ? error.restarts : 0;
    const reason = `the plan actor kept crashing: ${error.message}`;
    run.send({ type: 'fail', reason });
    await r.events.flush();
    await this.deps.kernel.bus.publish('hxo.alert', { plan_id: r.planId, alert_type: 'plan_crashed', severity: 'error', message: reason }, run.eventMeta);
    const report = crashedReport(run, r.startedAt, { partitionMs: r.partitionMs, executeMs: performance.now() - r.t0 - r.partitionMs, t0: r.t0 }, r.replayed, reason, restarts + 1);
    await this.storeReport(run, report, r.startedAt);
    run.send({ type: 'end', phase: 'failed', reason });
    return report;
  }

  /** Stores an ended plan's report; from then on its status is the report's (state, root and all together). */
  private async storeReport(run: PlanRun, report: PlanReport, startedAt: Date): Promise<void> {
    await this.deps.book.storeReport(run, report, startedAt);
    this.endedStatus.set(run.planId, finalStatus(report));
    this.live.delete(run.planId);
  }

  /** A run of the plan's shards that no checkpoint says ended. */
  private newRun(planId: string, plan: ResolvedPlan, events: EventBatcher, memoSources: (MemoSource | undefined)[], life: PlanLifecycle): PlanRun {
    const { kernel, book, registry, clock } = this.deps;
    const layout = book.layoutOf(plan);
    const { resumed, failedList } = resumeState({ store: kernel.store, log: kernel.log, checkpoints: book.checkpoints }, planId, plan, layout, events);
    const { store, space, log } = kernel;
    const run = new PlanRun(planId, plan, registry, layout, resumed, kernel.pool, this.scheduler, events, {
      persistFailure: (keyStage, index, casId, failure, attempts) => {
        const cp = encodeFailed(casId, attempts, 0, failure);
        space.retrying(() => store.write(() => writeCheckpoints(book.checkpoints, new BlockKeys(planId, keyStage), [index], [cp]))).catch((err: unknown) => log.error({ err }, 'failure checkpoint not written'));
      },
      storageFull: (err) => space.reportFull(err),
    }, memoSources, { initial: life, clock });
    for (const f of failedList) run.failed.push(f);
    this.space.started(run);
    return run;
  }

  /**
   * Bad leaves found by bisection are replayed: their checkpoints are removed
   * (the shards are pending again, and run in the next round) and an alert
   * says which they are.
   */
  private async forget(run: PlanRun, badLeaves: number[], replayed: ReplayedShard[]): Promise<void> {
    const { book, kernel } = this.deps;
    const found = badLeaves.map((leaf) => book.describeShard(run.planId, run.layout, run.plan, leaf));
    replayed.push(...found);
    await book.writeWhenRoom(() => book.removeCheckpoints(run.planId, run.layout, badLeaves));
    await kernel.bus.publish('hxo.alert', {
      plan_id: run.planId,
      alert_type: 'bad_leaves',
      severity: 'warning',
      message: `bisection found ${found.length} leaves whose stored outputs no longer match; replaying their shards`,
      leaves: found,
    }, run.eventMeta);
  }
}
