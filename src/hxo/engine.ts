/**
 * The HXO engine: plans in, certified reports out.
 *
 * submit → validate (shape, then the job-kind contract) → record the plan
 * (plan-book.ts) → `hxo.plan` and an audit record → a plan actor under `hxo`
 * (plan-launcher.ts) resumes from whatever checkpoints exist, runs every
 * shard, certifies (plan-conclusion.ts) and stores the report. The plan id is
 * derived from the plan's digest, so submitting the same plan to the same
 * data dir again resumes it (or returns its report if it already ended).
 *
 * While a plan runs, its hot shards are signalled (autotune.ts); the engine
 * starts the autonomy actor that answers them and applies the heals it gets
 * (genesis-link.ts), journaling each split (split-journal.ts).
 *
 *   const kernel = await startKernel(config, { poolTasks: HXO_POOL_TASKS });
 *   const engine = new HxoEngine(kernel);
 *   const { planId, finished } = await engine.submit(readPlanFile('plan.yaml'), { baseDir: '.' });
 *   const report = await finished;
 */
import type { Kernel } from '../kernel/kernel.ts';
import { publishAudit } from '../kernel/audit.ts';
import type { ActorInfo, Supervisable } from '../kernel/actor.ts';
import { Supervisor } from '../kernel/supervisor.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { Scheduler } from './run/scheduler.ts';
import { JobKindRegistry } from './plan/job-kinds.ts';
import { planIdFor, type ResolvedPlan } from './plan/plan.ts';
import { preparePlan } from './plan/prepare-plan.ts';

export { preparePlan } from './plan/prepare-plan.ts';
import type { PlanRun, SplitOutcome } from './run/plan-run.ts';
import { liveState, liveStatus, type PlanReport, type PlanStatus, type ReplayedShard } from './report.ts';
import type { LeafLayout } from './checkpoints/leaf-layout.ts';
import { AutotunePolicies } from './autotune/autotune.ts';
import { proofOf, shardPage, type ShardPage, type ShardPhase } from './plan-queries.ts';
import type { SampleProof } from './certify/verify-report.ts';
import { autonomyActor, healListener } from './autotune/genesis-link.ts';
import { PlanCollectedError, PlanError, PlanNotEndedError, PlanNotFoundError } from './engine-errors.ts';
import { PlanCollector } from './retention/retention.ts';
import { PlanRetention, type RunningPlan } from './retention/plan-retention.ts';
import { emptyReport, storedReport, type PlanRecord } from './checkpoints/plan-records.ts';
import { storedStatus } from './checkpoints/stored-status.ts';
import { liveSummary, storedSummary, type PlanSummary } from './plan-list.ts';
import { outputPage, outputPages, stageIndexOf, type OutputPage, type OutputQuery } from './plan-outputs.ts';
import { checkResumable, checkUnchanged } from './checkpoints/plan-resume.ts';
import type { PlanSpace } from './run/storage-pause.ts';
import { PlanBook, type ReplaySelection } from './plan-book.ts';
import { PlanLauncher } from './plan-launcher.ts';
import { HXO_POOL_TASKS } from './pool-tasks.ts';
import type { LeafStates } from './leaves/leaf-states.ts';
import { leafStatesOf } from './leaves/leaf-summaries.ts';
import { slotCount, slotPlace, type SlotPlace } from './leaves/slots.ts';

export { storedReport, type PlanRecord } from './checkpoints/plan-records.ts';
export { storedStatus } from './checkpoints/stored-status.ts';
export type { ReplaySelection } from './plan-book.ts';

export interface SubmitOptions {
  /** Directory that relative module paths in the plan are resolved against. */
  baseDir: string;
  submittedBy?: string;
  role?: string;
  correlationId?: string;
  /** Resume this plan id instead of the one the digest gives. */
  planId?: string;
  /** This plan, already prepared (`preparePlan` of the same raw plan and baseDir): not resolved again. */
  prepared?: ResolvedPlan;
  /** false: run every shard, reusing no earlier output (its outputs are still offered to later runs). */
  memo?: boolean;
}

export interface Submitted {
  planId: string;
  plan: ResolvedPlan;
  finished: Promise<PlanReport>;
}

export class HxoEngine {
  /** Ended plans resolved again for queries, the most recent few. */
  private readonly resolved = new Map<string, ResolvedPlan>();
  /** Leaf maps asked for lately (a live plan's, then kept once it ended), the most recent few. */
  private readonly leafMaps = new Map<string, LeafStates>();
  /** Plans being resumed (prepared again, not live yet): a second resume is refused. */
  private readonly resuming = new Set<string>();
  private readonly book: PlanBook;
  private readonly launcher: PlanLauncher;
  /** The node's retention of plans: on a schedule (serve), and one plan on demand. */
  readonly retention: PlanRetention;
  /** Auto-tuning policy (HXO_AUTOSPLIT_*, changed by `genesis.intent`). */
  readonly autotune: AutotunePolicies;

  constructor(
    private readonly kernel: Kernel,
    /** Job kinds; a caller that already loaded the configured modules passes its registry. */
    readonly registry = new JobKindRegistry(),
    /** The clock plan lifecycles are timed by (timeboxes). */
    clock: Clock = systemClock,
  ) {
    const { config } = kernel;
    for (const t of Object.keys(HXO_POOL_TASKS)) {
      if (!kernel.pool.handles(t)) throw new Error(`the kernel's worker pool does not run "${t}" tasks: start the kernel with { poolTasks: HXO_POOL_TASKS } (src/hxo/pool-tasks.ts)`);
    }
    this.book = new PlanBook(kernel);
    const { plans, checkpoints, memo } = this.book;
    this.retention = new PlanRetention(kernel, plans, new PlanCollector(kernel.store, plans, checkpoints, memo), () => this.running());
    this.autotune = new AutotunePolicies(config);
    // Subscribed as they are added (synchronously): no signal or heal published after this is missed.
    const onAddError = (err: unknown) => kernel.log.error({ err }, 'auto-tuning actor not started');
    kernel.root.add(autonomyActor(kernel.bus)).catch(onAddError);
    const heals = healListener(kernel.bus, {
      runOf: (planId) => this.launcher.live.get(planId)?.run,
      split: (run, stage, shard, factor) => this.split(run, stage, shard, factor),
      policies: this.autotune,
    });
    // Stopped last-started-first when the node stops (before the pool): the plans halt and drain, then retention finishes its pass.
    const hxo = new Supervisor('hxo', { strategy: 'one_for_one', maxRestarts: 5, withinMs: 10_000, notice: kernel.notice }, [this.retentionChild(), heals]);
    const scheduler = new Scheduler(Math.min(config.HXO_MAX_CONCURRENCY, kernel.pool.size * 2 + 2));
    this.launcher = new PlanLauncher({ kernel, book: this.book, registry: this.registry, autotune: this.autotune, supervisor: hxo, clock }, scheduler);
    kernel.root.add(hxo).catch(onAddError);
  }

  /** Live plans on a full disk: paused, with the room they need, and unpaused when it is back. */
  get space(): PlanSpace {
    return this.launcher.space;
  }

  /**
   * Loads the job-kind modules named in the config (HXO_JOB_KIND_MODULES) and
   * resumes every plan a previous process left unfinished.
   */
  async start(cwd: string = process.cwd()): Promise<string[]> {
    for (const module of this.kernel.config.HXO_JOB_KIND_MODULES) await this.registry.loadModule(module, cwd);
    return this.resumeUnfinished();
  }

  /** Validates a plan without running it; loads its job-kind modules. */
  prepare(raw: unknown, baseDir: string, capabilities?: ReadonlySet<string>): Promise<ResolvedPlan> {
    return preparePlan(raw, this.registry, this.kernel.config, baseDir, capabilities);
  }

  async submit(raw: unknown, options: SubmitOptions): Promise<Submitted> {
    const plan = options.prepared ?? (await this.prepare(raw, options.baseDir));
    const planId = options.planId ?? planIdFor(plan.digest);
    const live = this.launcher.live.get(planId);
    if (live) return { planId, plan, finished: live.finished };
    const existing = this.book.plans.get(planId);
    if (existing?.report) return { planId, plan, finished: Promise.resolve(existing.report) };
    const submittedBy = options.submittedBy ?? 'local';
    if (!existing) {
      this.checkDryRun(plan);
      const record: PlanRecord = {
        plan_id: planId,
        plan_name: plan.name,
        digest: plan.digest,
        source: plan.source,
        base_dir: options.baseDir,
        state: 'running',
        submitted_by: submittedBy,
        created_at: new Date().toISOString(),
        total_shards: plan.totalShards,
      };
      await this.kernel.store.write(() => void this.book.plans.put(planId, record));
      const meta = { actor: submittedBy, correlation_id: options.correlationId ?? planId };
      await this.kernel.bus.publish('hxo.plan', { plan_id: planId, plan_name: plan.name, stages: plan.stages.length, submitted_by: submittedBy }, meta);
      await publishAudit(this.kernel.bus, { user: submittedBy, role: options.role ?? 'admiral', operation: 'plan.submit', details: { plan_id: planId, plan_name: plan.name } }, meta);
    }
    return { planId, plan, finished: this.launcher.launch(planId, plan, options.correlationId ?? planId, [], options.memo ?? true) };
  }

  /**
   * A plan with a `require_dry_run` kind (seed 002) applies only after a dry
   * run of the same plan has succeeded.
   */
  private checkDryRun(plan: ResolvedPlan): void {
    if (plan.dry_run) return;
    const gated = [...new Set(plan.stages.map((s) => s.kind).filter((k) => this.registry.get(k)?.safety_policy.require_dry_run))];
    if (gated.length === 0 || this.book.dryRunSucceeded(plan)) return;
    throw new PlanError('dry_run', `${gated.join(', ')} requires a successful dry run of this plan first: submit it with dry_run: true`);
  }

  /** Resumes every plan a previous process left running. */
  /**
   * Resumes every plan a previous process left running — as long as it is
   * still the same plan: one whose executors' code or input files changed
   * since it started would mix outputs of two versions, so it ends aborted
   * instead, saying why (its file run again is a new plan). One that cannot
   * be prepared any more (a module gone) is left as it is, with a log line.
   */
  async resumeUnfinished(): Promise<string[]> {
    const resumed: string[] = [];
    for (const { value } of this.book.plans.getRange({})) {
      if (value.report || this.launcher.live.has(value.plan_id)) continue;
      let plan: ResolvedPlan;
      try {
        plan = await this.prepare(value.source, value.base_dir);
      } catch (err) {
        this.kernel.log.error({ err, plan_id: value.plan_id }, 'unfinished plan not resumed: it cannot be prepared');
        continue;
      }
      if (plan.digest !== value.digest) {
        const reason = 'not resumed: its executors\' code or input files changed since it started (run its file again: a new plan)';
        const report = { ...emptyReport(value), state: 'aborted' as const, reason, finished_at: new Date().toISOString() };
        await this.kernel.store.write(() => void this.book.plans.put(value.plan_id, { ...value, state: 'aborted', report }));
        this.kernel.log.warn({ plan_id: value.plan_id }, `unfinished plan ${reason}`);
        continue;
      }
      await this.submit(value.source, { baseDir: value.base_dir, planId: value.plan_id, submittedBy: value.submitted_by, prepared: plan });
      resumed.push(value.plan_id);
    }
    return resumed;
  }

  abort(planId: string, by = 'local', role = 'admiral'): boolean {
    const live = this.launcher.live.get(planId);
    if (!live) {
      if (!this.book.plans.get(planId)) throw new PlanNotFoundError(planId);
      return false;
    }
    live.run.abort(`aborted by ${by}`);
    void publishAudit(this.kernel.bus, { user: by, role, operation: 'plan.abort', details: { plan_id: planId } }).catch((err: unknown) =>
      this.kernel.log.error({ err }, 'audit record not written'),
    );
    return true;
  }

  status(planId: string): PlanStatus {
    const live = this.launcher.live.get(planId);
    if (live) return liveStatus(live.run, live.startedAt);
    const cached = this.launcher.endedStatus.get(planId);
    if (cached) return cached;
    const status = storedStatus(this.kernel.store, planId);
    // An ended plan's status changes only if it runs again (launch forgets it): kept, not re-read
    // from its record (which holds the whole report) on every poll.
    if (status.finished_at !== null) {
      if (this.launcher.endedStatus.size >= 4096) this.launcher.endedStatus.delete(this.launcher.endedStatus.keys().next().value as string);
      this.launcher.endedStatus.set(planId, status);
    }
    return status;
  }

  report(planId: string): PlanReport {
    if (this.launcher.live.has(planId)) throw new PlanNotEndedError(planId, 'no report yet (it is running)');
    return storedReport(this.book.plans, planId);
  }

  list(): { plan_id: string; plan_name: string; state: string; created_at: string }[] {
    return [...this.book.plans.getRange({})].map(({ value }) => {
      const live = this.launcher.live.get(value.plan_id);
      return { plan_id: value.plan_id, plan_name: value.plan_name, state: live ? liveState(live.run) : value.state, created_at: value.created_at };
    });
  }

  /** Every plan with its state and shard counts (a live plan's as they are now), by plan id. */
  summaries(): PlanSummary[] {
    return [...this.book.plans.getRange({})].map(({ value }) => {
      const live = this.launcher.live.get(value.plan_id);
      return live ? liveSummary(value, live.run) : storedSummary(value, this.book.checkpoints, this.book.splits);
    });
  }

  /** A page of what a plan's done shards produced, in leaf order (one stage's, if asked), from leaf `cursor` on. */
  async outputs(planId: string, q: OutputQuery): Promise<OutputPage> {
    const { plan, layout } = await this.planView(planId);
    return outputPage(this.book.checkpoints, planId, plan, layout, q);
  }

  /**
   * Every output from leaf `cursor` on, a page of `pageSize` at a time, each
   * page read only when the caller asks for it (it streams them). The plan
   * and the stage are checked now: an unknown one throws here, not midway.
   */
  async outputPages(planId: string, q: { stage?: string; cursor: number; pageSize?: number }): Promise<Iterable<OutputPage>> {
    const { plan, layout } = await this.planView(planId);
    if (q.stage !== undefined) stageIndexOf(plan, q.stage);
    const query = { ...(q.stage !== undefined ? { stage: q.stage } : {}), limit: q.pageSize ?? 1000 };
    return outputPages((cursor) => outputPage(this.book.checkpoints, planId, plan, layout, { ...query, cursor }), q.cursor);
  }

  /** A page of a plan's shards in leaf order, optionally of one phase, from leaf `cursor` on. */
  async shards(planId: string, q: { phase?: ShardPhase; cursor: number; limit: number }): Promise<ShardPage> {
    const { plan, layout } = await this.planView(planId);
    return shardPage(this.book.checkpoints, planId, plan, layout, q);
  }

  /** The inclusion proof of a plan's done shard by cas_id, against the root of its stored leaves. */
  async proof(planId: string, casId: string): Promise<SampleProof | undefined> {
    const { plan, layout } = await this.planView(planId);
    return proofOf(this.book.checkpoints, this.kernel.pool, planId, plan, layout, casId);
  }

  /**
   * The leaf map of a plan (leaves/leaf-states.ts): a live plan's is kept up
   * to date by its run from the first time it is asked for; an ended plan's
   * is built once from its checkpoint summaries and says it has ended.
   */
  async leafStates(planId: string): Promise<LeafStates> {
    const live = this.launcher.live.get(planId);
    let states = this.leafMaps.get(planId);
    if (live) {
      const { run } = live;
      states = run.watchLeaves(() => leafStatesOf(this.book.checkpoints, planId, run.plan, run.layout));
    } else if (states) {
      // Its run has ended since: the map it kept is final.
      states.ended = true;
    } else {
      const { plan, layout } = await this.planView(planId);
      states = leafStatesOf(this.book.checkpoints, planId, plan, layout);
      states.ended = true;
    }
    this.leafMaps.delete(planId);
    if (this.leafMaps.size >= 8) this.leafMaps.delete(this.leafMaps.keys().next().value as string);
    this.leafMaps.set(planId, states);
    return states;
  }

  /** How many slots a plan's leaf map has: its shards before any split (leaves/slots.ts). */
  async slotCount(planId: string): Promise<number> {
    return slotCount((await this.planView(planId)).plan);
  }

  /** Where a slot of a plan's leaf map is (leaves/slots.ts); undefined when the plan has no such slot. */
  async slotPlace(planId: string, slot: number): Promise<SlotPlace | undefined> {
    const { plan, layout } = await this.planView(planId);
    return slotPlace(plan, layout, slot);
  }

  /**
   * Plan retention in the tree: stopped after the plans (it was started
   * before them), it waits for a pass under way. The pool closes only after.
   */
  private retentionChild(): Supervisable {
    let startedAt: number | null = null;
    const start = (): Promise<void> => {
      startedAt = Date.now();
      return Promise.resolve();
    };
    const stop = async (): Promise<void> => {
      await this.retention.idle();
      startedAt = null;
    };
    const info = (): ActorInfo => ({ name: 'hxo.retention', kind: 'retention', state: startedAt === null ? 'stopped' : 'running', mailbox: 0, handled: 0, restarts: 0, started_at: startedAt });
    return { id: 'hxo.retention', start, halt: () => Promise.resolve(), stop, onCrash: () => {}, info };
  }

  /**
   * Every live plan claims no more shards and ends once its running batches
   * have (checkpointed); each stays unfinished, to go on at the next start.
   * Its `finished` rejects with NodeStoppingError.
   */
  halt(): void {
    for (const { actor } of this.launcher.live.values()) void actor.halt();
  }

  /** The plans running now, each with the plans it reuses outputs from. */
  running(): RunningPlan[] {
    return [...this.launcher.live].map(([planId, live]) => ({ planId, memoSources: live.run.memoSources.flatMap((s) => (s ? [s.plan_id] : [])) }));
  }

  /** A plan as it is laid out now: live, or resolved again from its record (kept for the next question). */
  private async planView(planId: string): Promise<{ plan: ResolvedPlan; layout: LeafLayout }> {
    const live = this.launcher.live.get(planId);
    if (live) return { plan: live.run.plan, layout: live.run.layout };
    const record = this.book.plans.get(planId);
    if (!record) throw new PlanNotFoundError(planId);
    if (record.collecting || record.collected_at) throw new PlanCollectedError(planId, record.collected_at);
    let plan = this.resolved.get(planId);
    if (!plan) {
      plan = await this.prepare(record.source, record.base_dir);
      if (this.resolved.size >= 16) this.resolved.delete(this.resolved.keys().next().value as string);
      this.resolved.set(planId, plan);
    }
    return { plan, layout: this.book.layoutOf(plan) };
  }

  /** Waits for every live plan to end. */
  async idle(): Promise<void> {
    await Promise.all([...this.launcher.live.values()].map((l) => l.finished.catch(() => undefined)));
  }

  /**
   * Runs shards of an ended plan again and certifies it anew (`xyn replay`):
   * its failed shards, the leaves of a subtree [from, to], or (by default)
   * the leaves whose stored outputs no longer match them, found by
   * bisection. Resolves as `submit` does; with nothing to replay, the plan's
   * report stands and `finished` is it.
   */
  async replay(planId: string, selection: ReplaySelection = { verify: true }, options: { by?: string; role?: string } = {}): Promise<Submitted & { replaying: ReplayedShard[] }> {
    if (this.launcher.live.has(planId)) throw new PlanError('plan_id', `${planId} is running: replay it once it has ended`);
    const record = this.book.plans.get(planId);
    if (!record) throw new PlanNotFoundError(planId);
    if (record.collecting || record.collected_at) throw new PlanCollectedError(planId, record.collected_at);
    const plan = await this.prepare(record.source, record.base_dir);
    const layout = this.book.layoutOf(plan);
    const leaves = await this.book.leavesToReplay(planId, plan, layout, selection);
    const replaying = leaves.map((leaf) => this.book.describeShard(planId, layout, plan, leaf));
    if (replaying.length === 0 && record.report) return { planId, plan, finished: Promise.resolve(record.report), replaying };
    await this.kernel.store.write(() => {
      this.book.removeCheckpoints(planId, layout, leaves);
      const { report: _report, ...rest } = this.book.plans.get(planId) as PlanRecord;
      void this.book.plans.put(planId, { ...rest, state: 'running' });
    });
    const by = options.by ?? 'local';
    await publishAudit(this.kernel.bus, { user: by, role: options.role ?? 'admiral', operation: 'plan.replay', details: { plan_id: planId, selection, shards: replaying.length } }, { actor: by, correlation_id: planId });
    // Shards replayed because their stored outputs went bad run afresh: nothing is reused for them.
    return { planId, plan, finished: this.launcher.launch(planId, plan, planId, replaying, false), replaying };
  }

  /**
   * Continues a plan that was aborted, or left unfinished by a process that
   * stopped, from its checkpoints (`xyn resume`): the shards that never ended
   * run, and the plan is certified. Refused (plan-resume.ts) while it runs,
   * once it is certified, when it failed (replay is the way), and when the
   * plan prepared again from its record has another digest than the one
   * that started. Resolves as `submit` does.
   */
  async resume(planId: string, options: ResumeOptions = {}): Promise<Submitted> {
    const record = this.book.plans.get(planId);
    if (!record) throw new PlanNotFoundError(planId);
    checkResumable(record, this.launcher.live.has(planId) || this.resuming.has(planId));
    this.resuming.add(planId);
    try {
      const plan = options.prepared ?? (await this.prepare(record.source, record.base_dir, options.capabilities));
      checkUnchanged(record, plan);
      const by = options.by ?? 'local';
      const correlationId = options.correlationId ?? planId;
      await this.kernel.store.write(() => {
        const { report: _report, ...rest } = this.book.plans.get(planId) as PlanRecord;
        void this.book.plans.put(planId, { ...rest, state: 'running' });
      });
      const details = { plan_id: planId, plan_name: record.plan_name, from_state: record.report?.state ?? 'unfinished' };
      await publishAudit(this.kernel.bus, { user: by, role: options.role ?? 'admiral', operation: 'plan.resume', details }, { actor: by, correlation_id: correlationId });
      return { planId, plan, finished: this.launcher.launch(planId, plan, correlationId, [], options.memo ?? true) };
    } finally {
      this.resuming.delete(planId);
    }
  }

  /** Splits a shard of a live run (a heal), journaling the split for the plan's digest. */
  private split(run: PlanRun, stage: number, shard: number, factor: number): Promise<SplitOutcome> {
    return run.split(stage, shard, factor, (record) => this.kernel.space.retrying(() => this.book.splits.record(run.plan.digest, { ...record, plan_id: run.planId, at: new Date().toISOString() })));
  }
}

export interface ResumeOptions {
  by?: string;
  role?: string;
  correlationId?: string;
  /** The caller's capabilities: the plan is prepared again with them (a non-idempotent stage needs hxo:force-merge). */
  capabilities?: ReadonlySet<string>;
  /** The plan already prepared from its record (`preparePlan` of its source and base_dir). */
  prepared?: ResolvedPlan;
  /** false: the shards left run afresh, reusing no earlier output (as `submit`'s). */
  memo?: boolean;
}
