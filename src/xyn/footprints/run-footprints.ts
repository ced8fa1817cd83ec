/**
 * The footprints the run machinery takes (seed 004 §6.3): `run.count` when a
 * run is made; on a step's end its `step.count` and `wall_ms` with what its
 * action recorded (`wall_ms` with dims `{action}` and whatever the plugin
 * measured) — one tally per step, closed when the step ends, its rows written
 * in the same transaction as the step's end (RunActor's flush).
 *
 *   ctx.footprints = meter.portFor(run, step);    // for the step's action (or agent)
 *   const rows = meter.stepEnded(run, endedStep);  // written with the step
 */
import type { Clock } from '../../core/clock.ts';
import { uuid7 } from '../../core/uuid7.ts';
import type { FootprintsPort } from '../actions/action.ts';
import type { RunRecord, StepRecord } from '../runs/records.ts';
import type { FootprintBook } from './footprint-book.ts';
import { FootprintTally } from './footprint-tally.ts';
import type { FootprintRow } from './records.ts';

export class RunFootprints {
  /** The tallies of steps running now, by run and step id. */
  private readonly open = new Map<string, Map<string, FootprintTally>>();

  constructor(
    private readonly book: FootprintBook,
    private readonly clock: Clock,
  ) {}

  /**
   * The port the step's work records through: an action's rows are the
   * action's (source_ref its name), an agent's the agent's (its provider).
   */
  portFor(run: RunRecord, step: StepRecord): FootprintsPort {
    const def = step.def;
    const tally = this.tally(run, step);
    if (def.kind === 'action_task') return tally.port('action', def.action);
    if (def.kind === 'agent_task') return tally.port('agent', def.provider);
    return tally.port('step', step.step_id);
  }

  /** The run's own row: every run has one (§5.3.2). */
  runCreated(run: RunRecord): FootprintRow[] {
    const now = this.clock.now();
    return [{ footprint_id: uuid7(now), run_id: run.run_id, step_id: null, blueprint_id: run.blueprint_id, source_kind: 'run', source_ref: run.run_id, metric: 'run.count', quantity: 1, unit: 'count', dims: {}, recorded_at: new Date(now).toISOString() }];
  }

  /** An ended step's rows: its step.count and wall_ms (started to ended; 0 when skipped), and its action's. */
  stepEnded(run: RunRecord, step: StepRecord): FootprintRow[] {
    const tally = this.tally(run, step);
    this.open.get(run.run_id)?.delete(step.step_id);
    const wallMs = step.started_at && step.completed_at ? Math.max(0, Date.parse(step.completed_at) - Date.parse(step.started_at)) : 0;
    const own = tally.port('step', step.step_id);
    own.record({ metric: 'step.count', quantity: 1, unit: 'count', dims: { kind: step.kind } });
    own.record({ metric: 'wall_ms', quantity: wallMs, unit: 'ms', dims: { kind: step.kind } });
    return tally.close(this.clock.now());
  }

  /** Forgets what a run's steps left open (a run that crashed out mid-step). */
  runEnded(runId: string): void {
    this.open.delete(runId);
  }

  /** Puts rows in the store: call it inside the write of what they are of. */
  write(rows: readonly FootprintRow[]): void {
    this.book.put(rows);
  }

  private tally(run: RunRecord, step: StepRecord): FootprintTally {
    let steps = this.open.get(run.run_id);
    if (!steps) this.open.set(run.run_id, (steps = new Map()));
    let tally = steps.get(step.step_id);
    if (!tally) steps.set(step.step_id, (tally = new FootprintTally({ run_id: run.run_id, step_id: step.step_id, blueprint_id: run.blueprint_id })));
    return tally;
  }
}
