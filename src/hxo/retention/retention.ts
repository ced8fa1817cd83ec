/**
 * Retention: a store that lives for months. A 1M-shard plan leaves ~300 MB
 * of checkpoints; plans beyond the policy have them collected.
 *
 * - Kept always: the plan's record with its report and certificate (small,
 *   and what makes an old result verifiable: `xyn verify` needs only the
 *   report).
 * - Collected: its checkpoints (outputs included) and their summaries, its memo runs (memo.ts),
 *   and the artifacts no other plan refers to (store/cas.ts owners).
 * - Never collected: a plan that has not ended (running, or left unfinished
 *   to be resumed), or one a running plan reuses outputs from.
 *
 * Policy: the last `XYN_RETAIN_PLANS` plans (by creation) and the plans of
 * the last `XYN_RETAIN_DAYS` days are kept; a plan outside either is
 * collected (0 turns a rule off). Collection goes in bounded transactions:
 * the record says `collecting` first, then blocks and references go a chunk
 * at a time, then it says `collected_at`. A process killed in between leaves
 * every kept plan whole, and the next run finishes the job.
 */
import type { Database } from 'lmdb';
import type { Store } from '../../store/env.ts';
import { casDb, casRefsDb, dropCasRefs } from '../../store/cas.ts';
import { forEachBlockRecord, planArtifactOwner, planKeyRange, summariesOf, type CheckpointDb } from '../checkpoints/checkpoint-records.ts';
import type { Memo } from '../checkpoints/memo.ts';
import type { PlanRecord } from '../checkpoints/plan-records.ts';

export interface RetentionPolicy {
  /** Keep the last N plans' data (0: no limit by count). */
  plans: number;
  /** Keep the data of plans created in the last N days (0: no limit by age). */
  days: number;
}

export interface CollectedPlan {
  plan_id: string;
  plan_name: string;
  created_at: string;
  /** Why: `beyond the last N plans`, `older than N days`, `asked for`, `unfinished collection`. */
  reason: string;
  checkpoint_blocks: number;
  shards: number;
  checkpoint_bytes: number;
  artifacts: number;
  artifact_bytes: number;
}

export interface GcReport {
  dry_run: boolean;
  policy: RetentionPolicy;
  plans: CollectedPlan[];
  /** Sums over `plans`. */
  checkpoint_bytes: number;
  artifact_bytes: number;
}

/** Entries removed per write transaction, at most: collection never holds the write lock for long. */
const CHUNK = 2_000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The ended plans the policy no longer keeps, with why; `spared` (running, reused from) are kept. */
function plansToCollect(records: Iterable<PlanRecord>, policy: RetentionPolicy, now: number, spared: ReadonlySet<string>): { record: PlanRecord; reason: string }[] {
  const all = [...records].sort((a, b) => (a.created_at > b.created_at ? -1 : a.created_at < b.created_at ? 1 : 0));
  const out: { record: PlanRecord; reason: string }[] = [];
  all.forEach((record, rank) => {
    if (spared.has(record.plan_id) || record.collected_at) return;
    if (record.collecting) return void out.push({ record, reason: 'unfinished collection' });
    if (!record.report) return;
    if (policy.plans > 0 && rank >= policy.plans) return void out.push({ record, reason: `beyond the last ${policy.plans} plans` });
    if (policy.days > 0 && now - Date.parse(record.created_at) > policy.days * DAY_MS) out.push({ record, reason: `older than ${policy.days} days` });
  });
  return out;
}

/** What collects one plan's data (and what counts it, in a dry run). */
export class PlanCollector {
  private readonly refs;
  private readonly blobs;

  constructor(
    private readonly store: Store,
    private readonly plans: Database<PlanRecord, string>,
    private readonly checkpoints: CheckpointDb,
    private readonly memo: Memo,
  ) {
    this.refs = casRefsDb(store);
    this.blobs = casDb(store);
  }

  async collect(record: PlanRecord, reason: string, dryRun: boolean): Promise<CollectedPlan> {
    const planId = record.plan_id;
    const out: CollectedPlan = { plan_id: planId, plan_name: record.plan_name, created_at: record.created_at, reason, checkpoint_blocks: 0, shards: 0, checkpoint_bytes: 0, artifacts: 0, artifact_bytes: 0 };
    const owner = planArtifactOwner(planId);
    if (dryRun) {
      this.countBlocks(planId, Infinity, out, false);
      const refs = dropCasRefs(this.refs, this.blobs, owner, Infinity, true);
      [out.artifacts, out.artifact_bytes] = [refs.blobs, refs.bytes];
      return out;
    }
    await this.store.write(() => {
      const now = this.plans.get(planId);
      if (now) void this.plans.put(planId, { ...now, collecting: true });
      this.memo.forget(planId);
    });
    while (!(await this.store.write(() => this.countBlocks(planId, CHUNK, out, true)))) {
      // one chunk per transaction
    }
    while (!(await this.store.write(() => this.dropSummaries(planId, CHUNK)))) {
      // likewise
    }
    for (;;) {
      const dropped = await this.store.write(() => dropCasRefs(this.refs, this.blobs, owner, CHUNK));
      out.artifacts += dropped.blobs;
      out.artifact_bytes += dropped.bytes;
      if (dropped.done) break;
    }
    await this.store.write(() => {
      const now = this.plans.get(planId);
      if (!now) return;
      const { collecting: _collecting, ...rest } = now;
      void this.plans.put(planId, { ...rest, collected_at: new Date().toISOString() });
    });
    return out;
  }

  /** Inside a write: deletes up to `limit` of the plan's checkpoint summaries (checkpoint-summary.ts); true when none are left. */
  private dropSummaries(planId: string, limit: number): boolean {
    const summaries = summariesOf(this.checkpoints);
    const keys = [...summaries.getKeys({ ...planKeyRange(planId), limit: limit + 1 })];
    for (const key of keys.slice(0, limit)) void summaries.remove(key);
    return keys.length <= limit;
  }

  /** Counts (and, with `remove`, deletes inside a write) up to `limit` blocks of the plan; true when none are left. */
  private countBlocks(planId: string, limit: number, out: CollectedPlan, remove: boolean): boolean {
    const blocks = [...this.checkpoints.getRange({ ...planKeyRange(planId), ...(Number.isFinite(limit) ? { limit: limit + 1 } : {}) })];
    for (const { key, value } of blocks.slice(0, limit)) {
      out.checkpoint_blocks++;
      out.checkpoint_bytes += value.length;
      forEachBlockRecord(value, () => out.shards++);
      if (remove) void this.checkpoints.remove(key);
    }
    return blocks.length <= limit;
  }
}

/**
 * Applies a policy to a store's plans: collects (or, with `dryRun`, counts)
 * the data of those it no longer keeps. `spared`: plans in use (a node's
 * running plans and their memo sources); a process holding the data dir's
 * lock has none.
 */
export async function applyRetention(collector: PlanCollector, plans: Database<PlanRecord, string>, policy: RetentionPolicy, options: { dryRun: boolean; spared: ReadonlySet<string> }): Promise<GcReport> {
  const chosen = plansToCollect(plans.getRange({}).map(({ value }) => value), policy, Date.now(), options.spared);
  const collected: CollectedPlan[] = [];
  for (const { record, reason } of chosen) collected.push(await collector.collect(record, reason, options.dryRun));
  return gcTotals(policy, options.dryRun, collected);
}

function gcTotals(policy: RetentionPolicy, dryRun: boolean, plans: CollectedPlan[]): GcReport {
  return {
    dry_run: dryRun,
    policy,
    plans,
    checkpoint_bytes: plans.reduce((n, p) => n + p.checkpoint_bytes, 0),
    artifact_bytes: plans.reduce((n, p) => n + p.artifact_bytes, 0),
  };
}
