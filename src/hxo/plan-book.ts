/**
 * The node's records of its plans, in one place: the plans themselves (their
 * source, state and report), their checkpoints, the splits journaled for
 * them, what their outputs offer later plans (memo), and dry runs that
 * succeeded — with the reads and writes over them that several parts of the
 * engine need (a plan's leaf layout, the leaves to replay, a stored report).
 *
 *   const book = new PlanBook(kernel);
 *   const layout = book.layoutOf(plan);
 */
import type { Database } from 'lmdb';
import type { Kernel } from '../kernel/kernel.ts';
import type { ResolvedPlan } from './plan/plan.ts';
import { planDigest } from './plan/plan.ts';
import type { PlanRun } from './run/plan-run.ts';
import { findBadLeaves } from './certify/certify.ts';
import { BlockKeys, Phase, checkCheckpointFormat, checkpointDb, decodeCheckpoint, writeCheckpoints, type CheckpointDb } from './checkpoints/checkpoint-records.ts';
import type { PlanReport, ReplayedShard } from './report.ts';
import { LeafLayout } from './checkpoints/leaf-layout.ts';
import { SplitJournal } from './checkpoints/split-journal.ts';
import { forEachCheckpoint, refCheckpoint, refCheckpointPlace } from './checkpoints/plan-checkpoints.ts';
import { PlanError } from './engine-errors.ts';
import { PLANS_DB, type PlanRecord } from './checkpoints/plan-records.ts';
import { Memo } from './checkpoints/memo.ts';

/** What `replay` runs again. */
export type ReplaySelection = { verify: true } | { failed: true } | { subtree: [from: number, to: number] };

export class PlanBook {
  readonly plans: Database<PlanRecord, string>;
  /** `dry-run:<digest of the plan without dry_run>` → the dry run that succeeded. */
  readonly meta: Database<{ plan_id: string; at: string }, string>;
  readonly checkpoints: CheckpointDb;
  readonly splits: SplitJournal;
  readonly memo: Memo;

  constructor(private readonly kernel: Kernel) {
    this.plans = kernel.store.db<string, PlanRecord>(PLANS_DB);
    this.meta = kernel.store.db<string, { plan_id: string; at: string }>('meta');
    checkCheckpointFormat(kernel.store);
    this.checkpoints = checkpointDb(kernel.store);
    this.splits = new SplitJournal(kernel.store);
    this.memo = new Memo(kernel.store);
  }

  /** A write of the engine's own records that, finding the store full, waits for room (the node's space policy) instead of failing the plan. */
  writeWhenRoom<T>(fn: () => T): Promise<T> {
    return this.kernel.space.retrying(() => this.kernel.store.write(fn));
  }

  /** The plan's leaf layout: its stages after the splits journaled for its digest. */
  layoutOf(plan: ResolvedPlan): LeafLayout {
    return new LeafLayout(
      plan.stages.map((s) => s.shardCount),
      this.splits.load(plan.digest),
    );
  }

  /** Stores an ended plan's report, and what its outputs offer later plans. */
  storeReport(run: PlanRun, report: PlanReport, startedAt: Date): Promise<void> {
    const { planId, plan } = run;
    return this.writeWhenRoom(() => {
      const record = this.plans.get(planId) as PlanRecord;
      void this.plans.put(planId, { ...record, state: report.state, report });
      this.memo.record(planId, plan.stages, startedAt.toISOString(), { ended: true, done: run.stages.map((s) => s.done) });
      if (plan.dry_run && report.truth_certified) void this.meta.put(dryRunKey(plan), { plan_id: planId, at: new Date().toISOString() });
    });
  }

  /** Whether a dry run of this plan (dry_run aside) has succeeded. */
  dryRunSucceeded(plan: ResolvedPlan): boolean {
    return this.meta.get(dryRunKey(plan)) !== undefined;
  }

  /** The leaves `replay` runs again: a subtree, the failed shards', or (by default) those whose stored outputs no longer match, found by bisection. */
  async leavesToReplay(planId: string, plan: ResolvedPlan, layout: LeafLayout, selection: ReplaySelection): Promise<number[]> {
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
  removeCheckpoints(planId: string, layout: LeafLayout, leaves: number[]): void {
    const places = leaves.map((leaf) => refCheckpointPlace(layout.locate(leaf))).sort((a, b) => a.keyStage - b.keyStage || a.index - b.index);
    for (let n = 0; n < places.length; ) {
      const keyStage = (places[n] as { keyStage: number }).keyStage;
      const indexes: number[] = [];
      for (; n < places.length && (places[n] as { keyStage: number }).keyStage === keyStage; n++) indexes.push((places[n] as { index: number }).index);
      writeCheckpoints(this.checkpoints, new BlockKeys(planId, keyStage), indexes, new Array<undefined>(indexes.length));
    }
  }

  /** The shard at a leaf, as a report's `replayed` names it. */
  describeShard(planId: string, layout: LeafLayout, plan: ResolvedPlan, leaf: number): ReplayedShard {
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
}

/** Where the success of a dry run of this plan (dry_run aside) is recorded. */
function dryRunKey(plan: ResolvedPlan): string {
  const { dry_run: _dryRun, ...apply } = plan.source;
  return `dry-run:${planDigest(apply, plan.facts)}`;
}
