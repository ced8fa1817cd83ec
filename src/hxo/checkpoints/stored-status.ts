/**
 * The status (seed 001 fields) of a plan that is not running in this
 * process, from the store: an ended plan's from its report; an unfinished
 * one's — no report: the process running it stopped, or another one runs
 * it — from its checkpoints, with state `unfinished` (as `xyn plans` says;
 * `xyn resume ID` continues it), never `running` with nothing counted.
 *
 *   storedStatus(store, planId)   // { state: 'unfinished', total_shards: 100000, done_shards: 41233, ... }
 */
import type { Store } from '../../store/env.ts';
import { checkpointDb } from './checkpoint-records.ts';
import { PlanNotFoundError } from '../engine-errors.ts';
import { unfinishedCounts } from '../plan-list.ts';
import { PLANS_DB, type PlanRecord } from './plan-records.ts';
import { finalStatus, type PlanStatus } from '../report.ts';
import { SplitJournal } from './split-journal.ts';

export function storedStatus(store: Store, planId: string): PlanStatus {
  const record = store.db<string, PlanRecord>(PLANS_DB).get(planId);
  if (!record) throw new PlanNotFoundError(planId);
  if (record.report) return finalStatus(record.report);
  const { total, done, failed, reused } = unfinishedCounts(record, checkpointDb(store), new SplitJournal(store));
  // A record made before plans kept their shard count: the checkpoints are all that is known.
  const totalShards = total ?? done + failed;
  return {
    plan_id: record.plan_id,
    plan_name: record.plan_name,
    state: 'unfinished',
    total_shards: totalShards,
    pending_shards: totalShards - done - failed,
    claimed_shards: 0,
    running_shards: 0,
    done_shards: done,
    failed_shards: failed,
    reused_shards: reused,
    merkle_root: null,
    truth_certified: false,
    started_at: record.created_at,
    finished_at: null,
    eta_seconds: null,
    shards_per_second: 0,
  };
}
