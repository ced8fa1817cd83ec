/**
 * The HXO engine: plans in, certified reports out.
 *
 * submit → validate (shape, then the job-kind contract) → record the plan →
 * `hxo.plan` and an audit record → resume from whatever checkpoints exist →
 * run every shard → certify → store the report. The plan id is derived from
 * the plan's digest, so submitting the same plan to the same data dir again
 * resumes it (or returns its report if it already ended).
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
import type { Database } from 'lmdb';
import type { Kernel } from '../kernel/kernel.ts';
import { EventBatcher } from '../kernel/event-batcher.ts';
import { publishAudit } from '../kernel/audit.ts';
import type { Supervisable } from '../kernel/actor.ts';
import { Scheduler } from './scheduler.ts';
import { JobKindRegistry } from './job-kinds.ts';
import { checkPlanShape, planDigest, planIdFor, resolvePlan, type Limits, type ResolvedPlan } from './plan.ts';
import { PlanRun, type SplitOutcome } from './plan-run.ts';
import { certifyPlan, findBadLeaves } from './certify.ts';
import { loadOrCreateNodeKey, type NodeKey } from './signing.ts';
import { BlockKeys, Phase, checkCheckpointFormat, checkpointDb, decodeCheckpoint, encodeFailed, writeCheckpoints, type CheckpointDb } from './checkpoint-records.ts';
import { finalStatus, liveState, liveStatus, splitSummaries, stageStats, type PlanReport, type PlanStatus, type ReplayedShard } from './report.ts';
import { LeafLayout } from './leaf-layout.ts';
import { SplitJournal } from './split-journal.ts';
import { forEachCheckpoint, refCheckpoint, refCheckpointPlace } from './plan-checkpoints.ts';
import { resumeState } from './resume-state.ts';
import { onFinalEventsLogged } from './final-events.ts';
import { AutotunePolicies, watchHotspots } from './autotune.ts';
import { proofOf, shardPage, type ShardPage, type ShardPhase } from './plan-queries.ts';
import type { SampleProof } from './verify-report.ts';
import { autonomyActor, healListener } from './genesis-link.ts';
import { NodeStoppingError, PlanCollectedError, PlanError, PlanNotEndedError, PlanNotFoundError } from './engine-errors.ts';
import { PlanCollector } from './retention.ts';
import { PlanRetention, type RunningPlan } from './plan-retention.ts';
import { PLANS_DB, emptyReport, storedReport, type PlanRecord } from './plan-records.ts';
import { storedStatus } from './stored-status.ts';

export { storedReport, type PlanRecord } from './plan-records.ts';
export { storedStatus } from './stored-status.ts';
import { Memo, type MemoSource } from './memo.ts';
import { liveSummary, storedSummary, type PlanSummary } from './plan-list.ts';
import { outputPage, outputPages, stageIndexOf, type OutputPage, type OutputQuery } from './plan-outputs.ts';
import { checkResumable, checkUnchanged } from './plan-resume.ts';
import { PlanSpace } from './storage-pause.ts';
import { HXO_POOL_TASKS } from './pool-tasks.ts';

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

/** Rounds of bisect-and-replay after a failed certification, at most. */
const MAX_REPLAYS = 2;

interface Live {
  run: PlanRun;
  startedAt: string;
  finished: Promise<PlanReport>;
}

export class HxoEngine {
  private readonly scheduler: Scheduler;
  private readonly live = new Map<string, Live>();
  /** Statuses of ended plans already asked for. */
  private readonly endedStatus = new Map<string, PlanStatus>();
  /** Ended plans resolved again for queries, the most recent few. */
  private readonly resolved = new Map<string, ResolvedPlan>();
  /** Plans being resumed (prepared again, not live yet): a second resume is refused. */
  private readonly resuming = new Set<string>();
  private readonly plans: Database<PlanRecord, string>;
  /** `dry-run:<digest of the plan without dry_run>` → the dry run that succeeded. */
  private readonly meta: Database<{ plan_id: string; at: string }, string>;
  private readonly checkpoints: CheckpointDb;
  private readonly splits: SplitJournal;
  private readonly memo: Memo;
  /** The node's retention of plans: on a schedule (serve), and one plan on demand. */
  readonly retention: PlanRetention;
  /** Auto-tuning policy (HXO_AUTOSPLIT_*, changed by `genesis.intent`). */
  readonly autotune: AutotunePolicies;
  /** Live plans on a full disk: paused, with the room they need, and unpaused when it is back. */
  readonly space: PlanSpace;
  private key: NodeKey | undefined;

  constructor(
    private readonly kernel: Kernel,
    /** Job kinds; a caller that already loaded the configured modules passes its registry. */
    readonly registry = new JobKindRegistry(),
  ) {
    const { config } = kernel;
    for (const t of Object.keys(HXO_POOL_TASKS)) {
      if (!kernel.pool.handles(t)) throw new Error(`the kernel's worker pool does not run "${t}" tasks: start the kernel with { poolTasks: HXO_POOL_TASKS } (src/hxo/pool-tasks.ts)`);
    }
    this.scheduler = new Scheduler(Math.min(config.HXO_MAX_CONCURRENCY, kernel.pool.size * 2 + 2));
    this.plans = kernel.store.db<string, PlanRecord>(PLANS_DB);
    this.meta = kernel.store.db<string, { plan_id: string; at: string }>('meta');
    checkCheckpointFormat(kernel.store);
    this.checkpoints = checkpointDb(kernel.store);
    this.splits = new SplitJournal(kernel.store);
    this.memo = new Memo(kernel.store);
    this.retention = new PlanRetention(kernel, this.plans, new PlanCollector(kernel.store, this.plans, this.checkpoints, this.memo), () => this.running());
    this.autotune = new AutotunePolicies(config);
    this.space = new PlanSpace(kernel, () => [...this.live.values()].map((l) => l.run));
    // Subscribed as they are added (synchronously): no signal or heal published after this is missed.
    const onAddError = (err: unknown) => kernel.log.error({ err }, 'auto-tuning actor not started');
    kernel.root.add(autonomyActor(kernel.bus)).catch(onAddError);
    // Stopped first when the node stops (before the pool): plans halt, their running batches drain.
    kernel.root.add(this.lifecycle()).catch(onAddError);
    kernel.root
      .add(
        healListener(kernel.bus, {
          runOf: (planId) => this.live.get(planId)?.run,
          split: (run, stage, shard, factor) => this.split(run, stage, shard, factor),
          policies: this.autotune,
        }),
      )
      .catch(onAddError);
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
    const live = this.live.get(planId);
    if (live) return { planId, plan, finished: live.finished };
    const existing = this.plans.get(planId);
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
      await this.kernel.store.write(() => void this.plans.put(planId, record));
      const meta = { actor: submittedBy, correlation_id: options.correlationId ?? planId };
      await this.kernel.bus.publish('hxo.plan', { plan_id: planId, plan_name: plan.name, stages: plan.stages.length, submitted_by: submittedBy }, meta);
      await publishAudit(this.kernel.bus, { user: submittedBy, role: options.role ?? 'admiral', operation: 'plan.submit', details: { plan_id: planId, plan_name: plan.name } }, meta);
    }
    return { planId, plan, finished: this.launch(planId, plan, options.correlationId ?? planId, [], options.memo ?? true) };
  }

  /**
   * A plan with a `require_dry_run` kind (seed 002) applies only after a dry
   * run of the same plan has succeeded.
   */
  private checkDryRun(plan: ResolvedPlan): void {
    if (plan.dry_run) return;
    const gated = [...new Set(plan.stages.map((s) => s.kind).filter((k) => this.registry.get(k)?.safety_policy.require_dry_run))];
    if (gated.length === 0 || this.meta.get(dryRunKey(plan))) return;
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
    for (const { value } of this.plans.getRange({})) {
      if (value.report || this.live.has(value.plan_id)) continue;
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
        await this.kernel.store.write(() => void this.plans.put(value.plan_id, { ...value, state: 'aborted', report }));
        this.kernel.log.warn({ plan_id: value.plan_id }, `unfinished plan ${reason}`);
        continue;
      }
      await this.submit(value.source, { baseDir: value.base_dir, planId: value.plan_id, submittedBy: value.submitted_by, prepared: plan });
      resumed.push(value.plan_id);
    }
    return resumed;
  }

  abort(planId: string, by = 'local', role = 'admiral'): boolean {
    const live = this.live.get(planId);
    if (!live) {
      if (!this.plans.get(planId)) throw new PlanNotFoundError(planId);
      return false;
    }
    live.run.abort(`aborted by ${by}`);
    void publishAudit(this.kernel.bus, { user: by, role, operation: 'plan.abort', details: { plan_id: planId } }).catch((err: unknown) =>
      this.kernel.log.error({ err }, 'audit record not written'),
    );
    return true;
  }

  status(planId: string): PlanStatus {
    const live = this.live.get(planId);
    if (live) return liveStatus(live.run, live.startedAt);
    const cached = this.endedStatus.get(planId);
    if (cached) return cached;
    const status = storedStatus(this.kernel.store, planId);
    // An ended plan's status changes only if it runs again (launch forgets it): kept, not re-read
    // from its record (which holds the whole report) on every poll.
    if (status.finished_at !== null) {
      if (this.endedStatus.size >= 4096) this.endedStatus.delete(this.endedStatus.keys().next().value as string);
      this.endedStatus.set(planId, status);
    }
    return status;
  }

  report(planId: string): PlanReport {
    if (this.live.has(planId)) throw new PlanNotEndedError(planId, 'no report yet (it is running)');
    return storedReport(this.plans, planId);
  }

  list(): { plan_id: string; plan_name: string; state: string; created_at: string }[] {
    return [...this.plans.getRange({})].map(({ value }) => {
      const live = this.live.get(value.plan_id);
      return { plan_id: value.plan_id, plan_name: value.plan_name, state: live ? liveState(live.run) : value.state, created_at: value.created_at };
    });
  }

  /** Every plan with its state and shard counts (a live plan's as they are now), by plan id. */
  summaries(): PlanSummary[] {
    return [...this.plans.getRange({})].map(({ value }) => {
      const live = this.live.get(value.plan_id);
      return live ? liveSummary(value, live.run) : storedSummary(value, this.checkpoints, this.splits);
    });
  }

  /** A page of what a plan's done shards produced, in leaf order (one stage's, if asked), from leaf `cursor` on. */
  async outputs(planId: string, q: OutputQuery): Promise<OutputPage> {
    const { plan, layout } = await this.planView(planId);
    return outputPage(this.checkpoints, planId, plan, layout, q);
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
    return outputPages((cursor) => outputPage(this.checkpoints, planId, plan, layout, { ...query, cursor }), q.cursor);
  }

  /** A page of a plan's shards in leaf order, optionally of one phase, from leaf `cursor` on. */
  async shards(planId: string, q: { phase?: ShardPhase; cursor: number; limit: number }): Promise<ShardPage> {
    const { plan, layout } = await this.planView(planId);
    return shardPage(this.checkpoints, planId, plan, layout, q);
  }

  /** The inclusion proof of a plan's done shard by cas_id, against the root of its stored leaves. */
  async proof(planId: string, casId: string): Promise<SampleProof | undefined> {
    const { plan, layout } = await this.planView(planId);
    return proofOf(this.checkpoints, this.kernel.pool, planId, plan, layout, casId);
  }

  /**
   * The engine as a child of the node's root supervisor: stopping it halts
   * every live plan (no more shards claimed; running batches drain and are
   * checkpointed; the plan stays unfinished, to resume at the next start) and
   * waits for retention. The pool closes only after.
   */
  private lifecycle(): Supervisable {
    const stop = async (): Promise<void> => {
      this.halt();
      await Promise.allSettled([...this.live.values()].map((l) => l.finished));
      await this.retention.idle();
    };
    return { id: 'hxo', start: () => Promise.resolve(), halt: () => Promise.resolve(), stop, onCrash: () => {} };
  }

  /**
   * Every live plan claims no more shards and ends once its running batches
   * have (checkpointed); each stays unfinished, to go on at the next start.
   * Its `finished` rejects with NodeStoppingError.
   */
  halt(): void {
    for (const { run } of this.live.values()) run.halt();
  }

  /** The plans running now, each with the plans it reuses outputs from. */
  running(): RunningPlan[] {
    return [...this.live].map(([planId, live]) => ({ planId, memoSources: live.run.memoSources.flatMap((s) => (s ? [s.plan_id] : [])) }));
  }

  /** A plan as it is laid out now: live, or resolved again from its record (kept for the next question). */
  private async planView(planId: string): Promise<{ plan: ResolvedPlan; layout: LeafLayout }> {
    const live = this.live.get(planId);
    if (live) return { plan: live.run.plan, layout: live.run.layout };
    const record = this.plans.get(planId);
    if (!record) throw new PlanNotFoundError(planId);
    if (record.collecting || record.collected_at) throw new PlanCollectedError(planId, record.collected_at);
    let plan = this.resolved.get(planId);
    if (!plan) {
      plan = await this.prepare(record.source, record.base_dir);
      if (this.resolved.size >= 16) this.resolved.delete(this.resolved.keys().next().value as string);
      this.resolved.set(planId, plan);
    }
    return { plan, layout: this.layoutOf(plan) };
  }

  /** Waits for every live plan to end. */
  async idle(): Promise<void> {
    await Promise.all([...this.live.values()].map((l) => l.finished.catch(() => undefined)));
  }

  /**
   * Runs shards of an ended plan again and certifies it anew (`xyn replay`):
   * its failed shards, the leaves of a subtree [from, to], or (by default)
   * the leaves whose stored outputs no longer match them, found by
   * bisection. Resolves as `submit` does; with nothing to replay, the plan's
   * report stands and `finished` is it.
   */
  async replay(planId: string, selection: ReplaySelection = { verify: true }, options: { by?: string; role?: string } = {}): Promise<Submitted & { replaying: ReplayedShard[] }> {
    if (this.live.has(planId)) throw new PlanError('plan_id', `${planId} is running: replay it once it has ended`);
    const record = this.plans.get(planId);
    if (!record) throw new PlanNotFoundError(planId);
    if (record.collecting || record.collected_at) throw new PlanCollectedError(planId, record.collected_at);
    const plan = await this.prepare(record.source, record.base_dir);
    const layout = this.layoutOf(plan);
    const leaves = await this.leavesToReplay(planId, plan, layout, selection);
    const replaying = leaves.map((leaf) => this.describeShard(planId, layout, plan, leaf));
    if (replaying.length === 0 && record.report) return { planId, plan, finished: Promise.resolve(record.report), replaying };
    await this.kernel.store.write(() => {
      this.removeCheckpoints(planId, layout, leaves);
      const { report: _report, ...rest } = this.plans.get(planId) as PlanRecord;
      void this.plans.put(planId, { ...rest, state: 'running' });
    });
    const by = options.by ?? 'local';
    await publishAudit(this.kernel.bus, { user: by, role: options.role ?? 'admiral', operation: 'plan.replay', details: { plan_id: planId, selection, shards: replaying.length } }, { actor: by, correlation_id: planId });
    // Shards replayed because their stored outputs went bad run afresh: nothing is reused for them.
    return { planId, plan, finished: this.launch(planId, plan, planId, replaying, false), replaying };
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
    const record = this.plans.get(planId);
    if (!record) throw new PlanNotFoundError(planId);
    checkResumable(record, this.live.has(planId) || this.resuming.has(planId));
    this.resuming.add(planId);
    try {
      const plan = options.prepared ?? (await this.prepare(record.source, record.base_dir, options.capabilities));
      checkUnchanged(record, plan);
      const by = options.by ?? 'local';
      const correlationId = options.correlationId ?? planId;
      await this.kernel.store.write(() => {
        const { report: _report, ...rest } = this.plans.get(planId) as PlanRecord;
        void this.plans.put(planId, { ...rest, state: 'running' });
      });
      const details = { plan_id: planId, plan_name: record.plan_name, from_state: record.report?.state ?? 'unfinished' };
      await publishAudit(this.kernel.bus, { user: by, role: options.role ?? 'admiral', operation: 'plan.resume', details }, { actor: by, correlation_id: correlationId });
      return { planId, plan, finished: this.launch(planId, plan, correlationId, [], options.memo ?? true) };
    } finally {
      this.resuming.delete(planId);
    }
  }

  private async leavesToReplay(planId: string, plan: ResolvedPlan, layout: LeafLayout, selection: ReplaySelection): Promise<number[]> {
    const n = layout.total;
    if ('subtree' in selection) {
      const [from, to] = selection.subtree;
      if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || from > to || to >= n) {
        throw new PlanError('subtree', `${from}..${to} is not a range of leaves of this plan (0..${n - 1})`);
      }
      return Array.from({ length: to - from + 1 }, (_, k) => from + k);
    }
    if ('failed' in selection) {
      const leaves: number[] = [];
      forEachCheckpoint(this.checkpoints, planId, plan, layout, (stage, shard, number, value) => {
        if (value[0] === Phase.Failed) leaves.push(number === undefined ? layout.leafOf(stage, shard) : layout.leafOfNumber(stage, number));
      });
      return leaves.sort((a, b) => a - b);
    }
    return findBadLeaves(planId, plan, layout, this.kernel.pool, this.checkpoints);
  }

  /** Inside a write: the shards at these leaves are pending again. */
  private removeCheckpoints(planId: string, layout: LeafLayout, leaves: number[]): void {
    const places = leaves.map((leaf) => refCheckpointPlace(layout.locate(leaf))).sort((a, b) => a.keyStage - b.keyStage || a.index - b.index);
    for (let n = 0; n < places.length; ) {
      const keyStage = (places[n] as { keyStage: number }).keyStage;
      const indexes: number[] = [];
      for (; n < places.length && (places[n] as { keyStage: number }).keyStage === keyStage; n++) indexes.push((places[n] as { index: number }).index);
      writeCheckpoints(this.checkpoints, new BlockKeys(planId, keyStage), indexes, new Array<undefined>(indexes.length));
    }
  }

  private describeShard(planId: string, layout: LeafLayout, plan: ResolvedPlan, leaf: number): ReplayedShard {
    const ref = layout.locate(leaf);
    const cp = refCheckpoint(this.checkpoints, planId, ref);
    return {
      leaf_index: leaf,
      stage_id: (plan.stages[ref.stage] as ResolvedPlan['stages'][number]).id,
      shard_index: ref.shard,
      ...(ref.sub ? { sub_shard: ref.sub.index } : {}),
      cas_id: cp ? decodeCheckpoint(cp).c : '',
    };
  }

  /** The plan's leaf layout: its stages after the splits journaled for its digest. */
  private layoutOf(plan: ResolvedPlan): LeafLayout {
    return new LeafLayout(
      plan.stages.map((s) => s.shardCount),
      this.splits.load(plan.digest),
    );
  }

  /** Splits a shard of a live run (a heal), journaling the split for the plan's digest. */
  private split(run: PlanRun, stage: number, shard: number, factor: number): Promise<SplitOutcome> {
    return run.split(stage, shard, factor, (record) => this.kernel.space.retrying(() => this.splits.record(run.plan.digest, { ...record, plan_id: run.planId, at: new Date().toISOString() })));
  }

  private launch(planId: string, plan: ResolvedPlan, correlationId: string, alreadyReplayed: ReplayedShard[], memoLookups: boolean): Promise<PlanReport> {
    const startedAt = new Date();
    const memoSources = plan.stages.map((s) => (s.memo && memoLookups ? this.memo.sourceFor(s.memoSalt, planId) : undefined));
    const t0 = performance.now();
    const { config, bus, log } = this.kernel;
    let unrecorded = 0;
    const events = new EventBatcher(bus, {
      batchSize: config.HXO_EVENT_BATCH_SIZE,
      maxRate: config.HXO_EVENT_MAX_RATE,
      meta: { correlation_id: correlationId },
      onLogged: onFinalEventsLogged(this.checkpoints, planId),
      // Said once per plan: a store that refuses one batch usually refuses the ones after it too.
      onError: (err) => {
        if (unrecorded++ === 0) log.error({ err, plan_id: planId }, 'shard events not recorded (later batches that fail are not logged again)');
      },
    });
    this.endedStatus.delete(planId);
    let run = this.newRun(planId, plan, events, memoSources);
    const partitionMs = performance.now() - t0;
    const replayed: ReplayedShard[] = [...alreadyReplayed];
    const finished = (async (): Promise<PlanReport> => {
      // Offered to later runs from the start: a run resumed after a crash is a source too.
      await this.writeWhenRoom(() => this.memo.record(planId, plan.stages, startedAt.toISOString(), { ended: false, done: [] }));
      for (let round = 0; ; round++) {
        const timebox = plan.timebox_ms ? setTimeout(() => run.abort(`timebox of ${plan.timebox_ms} ms exceeded`), plan.timebox_ms) : undefined;
        const unwatch = watchHotspots(run, this.autotune, (signal) => {
          bus.publish('hxo.autotune.signal', { ...signal }, { actor: 'hxo', ...run.eventMeta }).catch((err: unknown) => log.error({ err }, 'autotune signal not published'));
        });
        run.start();
        await run.executed;
        unwatch();
        clearTimeout(timebox);
        if (run.wasHalted) {
          await events.flush();
          throw new NodeStoppingError(planId, { done: run.counts.done, total: run.counts.total });
        }
        await events.flush();
        const executeMs = performance.now() - t0 - partitionMs;
        const { report, badLeaves } = await this.conclude(run, startedAt, { partitionMs, executeMs, t0 }, replayed);
        if (badLeaves.length === 0 || round >= MAX_REPLAYS) {
          await this.writeWhenRoom(() => {
            const record = this.plans.get(planId) as PlanRecord;
            void this.plans.put(planId, { ...record, state: report.state, report });
            this.memo.record(planId, plan.stages, startedAt.toISOString(), { ended: true, done: run.stages.map((s) => s.done) });
            if (plan.dry_run && report.truth_certified) void this.meta.put(dryRunKey(plan), { plan_id: planId, at: new Date().toISOString() });
          });
          // In one step, once the report is stored: status goes from the live run's to the report's (state, root and all together).
          this.endedStatus.set(planId, finalStatus(report));
          this.live.delete(planId);
          run.state = report.state;
          return report;
        }
        await this.forget(run, badLeaves, replayed);
        // Bad leaves run afresh: nothing is reused for them.
        run = this.newRun(planId, plan, events, []);
        (this.live.get(planId) as Live).run = run;
      }
    })().finally(() => {
      this.live.delete(planId);
      this.autotune.forget(planId);
    });
    this.live.set(planId, { run, startedAt: startedAt.toISOString(), finished });
    return finished;
  }

  /** A write of the engine's own records that, finding the store full, waits for room (the node's space policy) instead of failing the plan. */
  private writeWhenRoom<T>(fn: () => T): Promise<T> {
    return this.kernel.space.retrying(() => this.kernel.store.write(fn));
  }

  /** A run of the plan's shards that no checkpoint says ended. */
  private newRun(planId: string, plan: ResolvedPlan, events: EventBatcher, memoSources: (MemoSource | undefined)[]): PlanRun {
    const layout = this.layoutOf(plan);
    const { resumed, failedList } = resumeState({ store: this.kernel.store, log: this.kernel.log, checkpoints: this.checkpoints }, planId, plan, layout, events);
    const { store, space, log } = this.kernel;
    const run = new PlanRun(planId, plan, this.registry, layout, resumed, this.kernel.pool, this.scheduler, events, {
      persistFailure: (keyStage, index, casId, failure, attempts) => {
        const cp = encodeFailed(casId, attempts, 0, failure);
        space.retrying(() => store.write(() => writeCheckpoints(this.checkpoints, new BlockKeys(planId, keyStage), [index], [cp]))).catch((err: unknown) => log.error({ err }, 'failure checkpoint not written'));
      },
      storageFull: (err) => space.reportFull(err),
    }, memoSources);
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
    const found = badLeaves.map((leaf) => this.describeShard(run.planId, run.layout, run.plan, leaf));
    replayed.push(...found);
    await this.writeWhenRoom(() => this.removeCheckpoints(run.planId, run.layout, badLeaves));
    await this.kernel.bus.publish('hxo.alert', {
      plan_id: run.planId,
      alert_type: 'bad_leaves',
      severity: 'warning',
      message: `bisection found ${found.length} leaves whose stored outputs no longer match; replaying their shards`,
      leaves: found,
    }, run.eventMeta);
  }

  /**
   * The report of a run that ended; when certification found stored outputs
   * that no longer match their leaves, also every such leaf (by bisection).
   */
  private async conclude(
    run: PlanRun,
    startedAt: Date,
    t: { partitionMs: number; executeMs: number; t0: number },
    replayed: ReplayedShard[],
  ): Promise<{ report: PlanReport; badLeaves: number[] }> {
    const c = run.counts;
    const base = {
      plan_id: run.planId,
      plan_name: run.plan.name,
      stages: stageStats(run),
      total_shards: c.total,
      done_shards: c.done,
      failed_shards: c.failed,
      reused_shards: c.reused,
      failed: run.failed,
      ...(run.layout.hasSplits ? { splits: splitSummaries(run) } : {}),
      ...(replayed.length > 0 ? { replayed: [...replayed] } : {}),
      started_at: startedAt.toISOString(),
    };
    const timings = (merkleMs: number, certifyMs: number) => ({
      partition_ms: round(t.partitionMs),
      execute_ms: round(t.executeMs),
      merkle_ms: round(merkleMs),
      certify_ms: round(certifyMs),
      total_ms: round(performance.now() - t.t0),
    });
    // The run's own state is left as it is: status shows an ended state only with the stored report (launch).
    if (run.state === 'aborted' || run.state === 'failed' || c.failed > 0) {
      const state = run.state === 'running' ? 'failed' : run.state;
      if (run.state === 'running') {
        await this.kernel.bus.publish('hxo.alert', { plan_id: run.planId, alert_type: 'shards_failed', severity: 'error', message: `${c.failed} shards failed for good; the plan is not certified` }, run.eventMeta);
      }
      const report: PlanReport = { ...base, state, merkle_root: null, truth_certified: false, certificate: null, sample_proofs: [], ...(run.abortReason ? { reason: run.abortReason } : {}), timings: timings(0, 0), finished_at: new Date().toISOString() };
      return { report, badLeaves: [] };
    }
    run.state = 'certifying';
    const m0 = performance.now();
    this.key ??= loadOrCreateNodeKey(this.kernel.config.dataDir);
    const leaves = run.leaves;
    const outcome = await certifyPlan(run, leaves, this.kernel.pool, this.kernel.bus, this.key, this.checkpoints);
    const certifyMs = performance.now() - m0;
    const state = outcome.certified ? 'certified' : 'failed';
    const badLeaves = !outcome.certified && outcome.bad_leaves.length > 0 ? await findBadLeaves(run.planId, run.plan, run.layout, this.kernel.pool, this.checkpoints, leaves) : [];
    const report: PlanReport = {
      ...base,
      state,
      merkle_root: outcome.merkle_root,
      truth_certified: outcome.certified,
      certificate: outcome.certified ? outcome.certificate : null,
      sample_proofs: outcome.sample_proofs,
      ...(outcome.certified ? {} : { reason: outcome.reason }),
      timings: timings(outcome.merkle_ms, certifyMs - outcome.merkle_ms),
      finished_at: new Date().toISOString(),
    };
    return { report, badLeaves };
  }
}

/** Validates a plan (shape, then the job-kind contract), loading the job-kind modules it names. */
export async function preparePlan(raw: unknown, registry: JobKindRegistry, limits: Limits, baseDir: string, capabilities?: ReadonlySet<string>): Promise<ResolvedPlan> {
  const shaped = checkPlanShape(raw);
  for (const module of shaped.modules ?? []) await registry.loadModule(module, baseDir);
  return resolvePlan(shaped, registry, limits, baseDir, capabilities);
}

/** Where the success of a dry run of this plan (dry_run aside) is recorded. */
function dryRunKey(plan: ResolvedPlan): string {
  const { dry_run: _dryRun, ...apply } = plan.source;
  return `dry-run:${planDigest(apply, plan.facts)}`;
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

/** What `replay` runs again. */
export type ReplaySelection = { verify: true } | { failed: true } | { subtree: [from: number, to: number] };

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
