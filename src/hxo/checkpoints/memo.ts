/**
 * Memoization: which earlier run of a stage a shard's output may be reused
 * from. A stage's *memo salt* (plan.ts) covers its executor's identity (its
 * code, job-kinds.ts) and the config the executor reads; runs with the same
 * salt would compute the same output for the same input. A run looks for
 * outputs in the latest earlier run with its salt — the latest that ended
 * having done shards, else the latest at all (one still running, or left
 * unfinished by a node that died) — at the *same place*: shard i of the
 * stage there. The worker reuses that output only if the shard there has
 * the same address (128 bits) and its stored output still hashes to its
 * stored digest (shard-batch.ts).
 *
 * Why by place and not by an index of addresses: an index written a shard at
 * a time lands each entry on a random LMDB page (a million random writes per
 * plan cost four times the run itself), while a run's checkpoints are
 * already written, in order, 64 to a block. Re-runs, a plan grown or shrunk
 * at its end, and inputs edited in place keep their shards' places; a shard
 * whose place moved (a file added before it) runs again.
 *
 * `memo` database: `${salt}:${plan_id}` → MemoRun, one per stage run.
 *
 *   const memo = new Memo(store);
 *   const source = memo.sourceFor(stage.memoSalt, planId);  // → {plan_id, stage} | undefined
 *   await store.write(() => memo.record(planId, plan.stages, { ended: false, done: [] }));
 */
import type { Database } from 'lmdb';
import type { Store } from '../../store/env.ts';
import type { ResolvedStage } from '../plan/plan.ts';

export const MEMO_DB = 'memo';

/** The stage run a batch may reuse outputs from: its plan and (key) stage. */
export interface MemoSource {
  plan_id: string;
  stage: number;
}

interface MemoRun {
  plan_id: string;
  stage: number;
  /** When the run started (ISO). */
  at: string;
  ended: boolean;
  /** Its done shards, once it ended. */
  done: number;
}

export class Memo {
  private readonly db: Database<MemoRun, string>;

  constructor(store: Store) {
    this.db = store.db<string, MemoRun>(MEMO_DB);
  }

  /** The run of another plan that stage runs with this salt reuse outputs from, if any. */
  sourceFor(salt: string, planId: string): MemoSource | undefined {
    let ended: MemoRun | undefined;
    let latest: MemoRun | undefined;
    for (const { value } of this.db.getRange({ start: `${salt}:`, end: `${salt};` })) {
      if (value.plan_id === planId) continue;
      if (!latest || value.at > latest.at) latest = value;
      if (value.ended && value.done > 0 && (!ended || value.at > ended.at)) ended = value;
    }
    const source = ended ?? latest;
    return source ? { plan_id: source.plan_id, stage: source.stage } : undefined;
  }

  /**
   * Inside a write: the plan's memoized stages as runs later ones may reuse
   * from; at its start (`ended: false`), and again when it ends, with each
   * stage's done shards.
   */
  record(planId: string, stages: readonly ResolvedStage[], at: string, outcome: { ended: boolean; done: readonly number[] }): void {
    for (const s of stages) {
      if (!s.memo) continue;
      void this.db.put(`${s.memoSalt}:${planId}`, { plan_id: planId, stage: s.index, at, ended: outcome.ended, done: outcome.done[s.index] ?? 0 });
    }
  }

  /** Inside a write: the plan is no source any more (its checkpoints are being collected). */
  forget(planId: string): void {
    for (const { key, value } of this.db.getRange({})) if (value.plan_id === planId) void this.db.remove(key);
  }
}
