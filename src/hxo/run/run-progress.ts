/**
 * How far a live run is, as its status and the progress board show it:
 * per-stage counts and latencies, the shards out in the pool, the smoothed
 * shards/s and the ETA from it. And how big its next batch is: batches are
 * tuned to take about TARGET_BATCH_MS, big for fast shards, small for slow
 * ones, so a batch is neither all overhead nor a long wait for a split.
 */
import type { ResolvedPlan } from '../plan/plan.ts';
import type { LeafLayout } from '../checkpoints/leaf-layout.ts';
import type { Resumed } from '../checkpoints/plan-checkpoints.ts';
import { LatencyHistogram } from './latency.ts';

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

const TARGET_BATCH_MS = 40;
const MAX_BATCH = 4096;

export class RunProgress {
  readonly stages: StageProgress[];
  /** Shards in batches out in the pool. */
  inFlight = 0;
  /** Shards a batch takes at most (`tuneBatchSize`). */
  batchSize = 64;
  private perShardMsEma = 0;
  private rate = 0;
  private lastRateAt = Date.now();
  private lastRateDone = 0;

  constructor(
    plan: ResolvedPlan,
    private readonly layout: LeafLayout,
    /** Per stage, what earlier runs counted. */
    resumed: Resumed['stages'],
  ) {
    const now = Date.now();
    this.stages = plan.stages.map((s, i) => ({
      stage_id: s.id,
      kind: s.kind,
      total: layout.stageTotal(i),
      done: resumed[i]?.done ?? 0,
      failed: resumed[i]?.failed ?? 0,
      reused: resumed[i]?.reused ?? 0,
      started_at: now,
      latency: new LatencyHistogram(),
    }));
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
    return { total, done, failed, reused, inFlight: this.inFlight, pending: Math.max(0, total - done - failed - this.inFlight) };
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

  /** Seconds until every shard has ended at the current rate: 0 once they have, null while paused or with no rate yet. */
  etaSeconds(paused: boolean): number | null {
    const c = this.counts;
    const left = c.total - c.done - c.failed;
    if (left === 0) return 0;
    if (paused) return null;
    const rate = this.shardsPerSecond;
    return rate > 0 ? Math.round((left / rate) * 10) / 10 : null;
  }

  /** Batches of about TARGET_BATCH_MS, from what a shard of the last batch took on average. */
  tuneBatchSize(perShardMs: number): void {
    this.perShardMsEma = this.perShardMsEma === 0 ? perShardMs : 0.8 * this.perShardMsEma + 0.2 * perShardMs;
    const ideal = this.perShardMsEma > 0 ? TARGET_BATCH_MS / this.perShardMsEma : MAX_BATCH;
    this.batchSize = Math.max(1, Math.min(MAX_BATCH, Math.round(ideal)));
  }

  /** The run ended: every stage not finished before is now. */
  finish(now: number): void {
    for (const s of this.stages) s.finished_at ??= now;
  }
}
