/**
 * A node's retention of plans (retention.ts has the policy and what
 * collecting a plan does): the node's policy applied on a schedule, one plan
 * collected on demand (audited), one collection at a time, and never a plan
 * that is running or that a running plan reuses outputs from.
 *
 *   const retention = new PlanRetention(kernel, plans, collector, () => engine.running());
 *   const stop = retention.schedule(kernel.config.XYN_GC_INTERVAL_MS);
 */
import type { Database } from 'lmdb';
import type { Kernel } from '../../kernel/kernel.ts';
import { publishAudit } from '../../kernel/audit.ts';
import { PlanCollectedError, PlanInUseError, PlanNotEndedError, PlanNotFoundError } from '../engine-errors.ts';
import type { PlanRecord } from '../checkpoints/plan-records.ts';
import { applyRetention, type CollectedPlan, type GcReport, type PlanCollector, type RetentionPolicy } from './retention.ts';

/** A running plan and the plans it reuses outputs from. */
export interface RunningPlan {
  planId: string;
  memoSources: readonly string[];
}

export class PlanRetention {
  /** The collection running now (each waits for the one before). */
  private collecting: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly kernel: Pick<Kernel, 'bus' | 'log' | 'config'>,
    private readonly plans: Database<PlanRecord, string>,
    private readonly collector: PlanCollector,
    private readonly running: () => Iterable<RunningPlan>,
  ) {}

  /** Applies the node's policy (XYN_RETAIN_*), or this one; with `dryRun`, says what it would free. */
  gc(options: { dryRun?: boolean; policy?: RetentionPolicy } = {}): Promise<GcReport> {
    const policy = options.policy ?? { plans: this.kernel.config.XYN_RETAIN_PLANS, days: this.kernel.config.XYN_RETAIN_DAYS };
    return this.oneAtATime(() => applyRetention(this.collector, this.plans, policy, { dryRun: options.dryRun ?? false, spared: this.inUse() }));
  }

  /** Collects one ended plan's data now (`DELETE /api/hxo/plans/{id}`, audited as plan.collect); its report stays. */
  collect(planId: string, options: { by?: string; role?: string } = {}): Promise<CollectedPlan> {
    return this.oneAtATime(async () => {
      const record = this.plans.get(planId);
      if (!record) throw new PlanNotFoundError(planId);
      if (record.collected_at) throw new PlanCollectedError(planId, record.collected_at);
      const running = [...this.running()];
      if (running.some((r) => r.planId === planId) || !record.report) throw new PlanNotEndedError(planId, 'only an ended plan can be collected: abort it first');
      const users = running.filter((r) => r.memoSources.includes(planId)).map((r) => r.planId);
      if (users.length > 0) throw new PlanInUseError(planId, users);
      const collected = await this.collector.collect(record, 'asked for', false);
      const by = options.by ?? 'local';
      await publishAudit(this.kernel.bus, { user: by, role: options.role ?? 'admiral', operation: 'plan.collect', details: { ...collected } }, { actor: by, correlation_id: planId });
      return collected;
    });
  }

  /**
   * Applies the policy every `intervalMs` (and once now; never for 0); the
   * returned stop waits for a collection in progress. Each one that frees
   * anything is one log line.
   */
  schedule(intervalMs: number): () => Promise<void> {
    if (intervalMs <= 0) return () => Promise.resolve();
    const apply = (): void => {
      this.gc()
        .then((r) => {
          if (r.plans.length > 0) this.kernel.log.info({ plans: r.plans.map((p) => p.plan_id), checkpoint_bytes: r.checkpoint_bytes, artifact_bytes: r.artifact_bytes }, `retention collected ${r.plans.length} plan(s)`);
        })
        .catch((err: unknown) => this.kernel.log.error({ err }, 'retention failed'));
    };
    apply();
    const timer = setInterval(apply, intervalMs).unref();
    return async () => {
      clearInterval(timer);
      await this.idle();
    };
  }

  /** Resolves when no collection is running. */
  async idle(): Promise<void> {
    await this.collecting.catch(() => undefined);
  }

  private oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const next = this.collecting.catch(() => undefined).then(work);
    this.collecting = next;
    return next;
  }

  /** Plans that must not be collected now: running, and those running plans reuse outputs from. */
  private inUse(): Set<string> {
    const ids = new Set<string>();
    for (const r of this.running()) {
      ids.add(r.planId);
      for (const source of r.memoSources) ids.add(source);
    }
    return ids;
  }
}
