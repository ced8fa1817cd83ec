/**
 * The runs' records in LMDB (records.ts): made in one transaction with all
 * their steps, changed a step at a time (step and run together, indexes kept
 * in step), read back in pages newest first.
 *
 *   const { run, created } = await book.create(run, steps, 'ev:42:bp.fix');
 *   await book.save(run, [step]);
 *   book.list({ status: 'running', limit: 50 });
 */
import type { Store } from '../../store/env.ts';
import { newestIds, pageOfIds, type Page } from '../drafts/records.ts';
import {
  blueprintKey,
  runIndexDb,
  runsDb,
  statusKey,
  stepKey,
  stepsDb,
  triggerKey,
  type RunRecord,
  type RunStatus,
  type StepRecord,
} from './records.ts';

export interface RunQuery {
  status?: RunStatus;
  blueprint_id?: string;
  /** The last run_id of the page before. */
  cursor?: string;
  limit?: number;
}

export class RunBook {
  private readonly runs;
  private readonly steps;
  private readonly index;

  constructor(private readonly store: Store) {
    this.runs = runsDb(store);
    this.steps = stepsDb(store);
    this.index = runIndexDb(store);
  }

  /**
   * Stores a new run and its steps, unless `key` already made one: then that
   * run is answered (`created: false`) and nothing is written. `also` writes
   * more in the same transaction (the run's footprint), when it is made.
   */
  async create(run: RunRecord, steps: StepRecord[], key?: string, also?: () => void): Promise<{ run: RunRecord; created: boolean }> {
    return this.store.write(() => {
      if (key !== undefined) {
        const made = this.index.get(triggerKey(key));
        const existing = typeof made === 'string' ? this.runs.get(made) : undefined;
        if (existing) return { run: existing, created: false };
        void this.index.put(triggerKey(key), run.run_id);
      }
      void this.runs.put(run.run_id, run);
      for (const step of steps) void this.steps.put(stepKey(run.run_id, step.index), step);
      void this.index.put(statusKey(run.status, run.run_id), 1);
      void this.index.put(blueprintKey(run.blueprint_id, run.run_id), 1);
      also?.();
      return { run, created: true };
    });
  }

  /**
   * Writes the run and some of its steps in one transaction, its status index
   * moved if its status changed — from `before` when the caller knows what
   * the store holds, else read. `also` writes more in the same transaction
   * (the footprints of the steps it ends).
   */
  async save(run: RunRecord, steps: StepRecord[] = [], before?: RunStatus, also?: () => void): Promise<void> {
    await this.store.write(() => {
      const was = before ?? this.runs.get(run.run_id)?.status;
      if (was !== undefined && was !== run.status) {
        void this.index.remove(statusKey(was, run.run_id));
        void this.index.put(statusKey(run.status, run.run_id), 1);
      }
      void this.runs.put(run.run_id, run);
      for (const step of steps) void this.steps.put(stepKey(run.run_id, step.index), step);
      also?.();
    });
  }

  get(runId: string): RunRecord | undefined {
    return this.runs.get(runId);
  }

  stepsOf(runId: string): StepRecord[] {
    return [...this.steps.getRange({ start: `${runId}/`, end: `${runId}/\uffff` }).map(({ value }) => value)];
  }

  step(runId: string, index: number): StepRecord | undefined {
    return this.steps.get(stepKey(runId, index));
  }

  /** The runs in a status, oldest first (all of them: for resuming the live ones at start). */
  idsIn(status: RunStatus): string[] {
    const prefix = statusKey(status, '');
    return [...this.index.getKeys({ start: prefix, end: `${prefix}\uffff` }).map((k) => k.slice(prefix.length))];
  }

  /** A page of runs, newest first, filtered by status and/or blueprint. */
  list(q: RunQuery = {}): Page<RunRecord> {
    // The narrower index leads when both filters are given; the other is checked on each record.
    return pageOfIds(this.newestFirst(q), q.limit, (id) => {
      const run = this.runs.get(id);
      if (!run || (q.status !== undefined && run.status !== q.status) || (q.blueprint_id !== undefined && run.blueprint_id !== q.blueprint_id)) return undefined;
      return run;
    });
  }

  private newestFirst(q: RunQuery): Generator<string> {
    const prefix = q.status !== undefined ? statusKey(q.status, '') : q.blueprint_id !== undefined ? blueprintKey(q.blueprint_id, '') : undefined;
    return newestIds(this.runs, this.index, prefix, q.cursor);
  }
}
