/**
 * A node's plans on a full disk (the store's space notices, store/space.ts):
 * when the store fills, every live plan pauses — it claims no more shards,
 * and nothing of it fails for want of room — with an `hxo.alert`
 * `storage_full` saying how much room it needs; once the store has room
 * again, the plans go on by themselves (`hxo.alert` `storage_available`).
 *
 * How much room: the store file's growth per shard ended since the plans
 * started, times the shards they have left — a measure of this node's own
 * data, not a guess from sizes on paper.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Kernel } from '../../kernel/kernel.ts';
import type { FullCondition } from '../../store/space.ts';
import type { PlanRun } from './plan-run.ts';
import { mib } from '../engine-errors.ts';

/** Where a live plan started from: the store's size and its shards ended then. */
interface Start {
  bytes: number;
  ended: number;
}

/** Store growth per ended shard assumed before any shard of a plan has ended here. */
const BYTES_PER_SHARD_BEFORE_MEASURE = 512;

export class PlanSpace {
  private readonly starts = new WeakMap<PlanRun, Start>();
  private readonly storeFile: string;

  constructor(
    private readonly kernel: Kernel,
    /** The live runs now. */
    private readonly runs: () => PlanRun[],
  ) {
    this.storeFile = join(kernel.config.storePath, 'data.mdb');
    kernel.space.onFull((c) => this.pauseAll(c));
    kernel.space.onWritable(() => this.unpauseAll());
  }

  /** A run starts: growth is measured from here; on a full store it starts paused. */
  started(run: PlanRun): void {
    const c = run.counts;
    this.starts.set(run, { bytes: this.storeBytes(), ended: c.done + c.failed });
    const full = this.kernel.space.condition;
    if (full) run.pause(pauseReason(full));
  }

  /** About how many more bytes the live plans need to end (0 when none is live). */
  neededBytes(): number {
    const now = this.storeBytes();
    let perShard = 0;
    let left = 0;
    for (const run of this.runs()) {
      const c = run.counts;
      const start = this.starts.get(run);
      const ended = c.done + c.failed - (start?.ended ?? 0);
      if (start && ended > 0) perShard = Math.max(perShard, (now - start.bytes) / ended);
      left += c.total - c.done - c.failed;
    }
    return Math.ceil(left * (perShard > 0 ? perShard : BYTES_PER_SHARD_BEFORE_MEASURE));
  }

  private pauseAll(full: FullCondition): void {
    const needed = this.neededBytes();
    const message = `storage full at ${full.path} (${mib(full.free_bytes)} free): plans are paused and go on by themselves once about ${mib(needed)} more is free on that file system`;
    for (const run of this.runs()) {
      run.pause(pauseReason(full));
      this.alert(run, { alert_type: 'storage_full', severity: 'error', message, path: full.path, free_bytes: full.free_bytes, needed_bytes: needed });
    }
  }

  private unpauseAll(): void {
    for (const run of this.runs()) {
      if (run.pausedReason === undefined) continue;
      run.unpause();
      this.alert(run, { alert_type: 'storage_available', severity: 'info', message: 'the store has room again: the plan goes on' });
    }
  }

  private alert(run: PlanRun, data: Record<string, unknown>): void {
    this.kernel.bus.publish('hxo.alert', { plan_id: run.planId, ...data }, { actor: 'hxo', ...run.eventMeta }).catch((err: unknown) => {
      this.kernel.log.error({ err, plan_id: run.planId }, 'storage alert not published');
    });
  }

  private storeBytes(): number {
    return statSync(this.storeFile, { throwIfNoEntry: false })?.size ?? 0;
  }
}

function pauseReason(full: FullCondition): string {
  return `storage full at ${full.path}`;
}
