/**
 * A run's events (docs/workflows.md, "Events"): each carries the run's id,
 * its step's, the run's correlation id (the triggering event's) and the run
 * as its resource; its data the run's and blueprint's ids besides its own.
 * Published once what it reports is written; a failure to record one is
 * logged, not thrown — the run's record is what counts.
 */
import type { Bus } from '../../kernel/bus.ts';
import type { Logger } from '../../kernel/log.ts';
import type { RunError, RunRecord } from './records.ts';

export function publishRunEvent(bus: Bus, log: Logger, name: string, run: RunRecord, data: Record<string, unknown>, stepId: string | null, actor: string): void {
  bus
    .publish(name, { run_id: run.run_id, blueprint_id: run.blueprint_id, ...data }, { run_id: run.run_id, step_id: stepId, correlation_id: run.correlation_id, actor, resource: { type: 'run', id: run.run_id } })
    .catch((err: unknown) => log.error({ err, event: name, run_id: run.run_id }, 'run event not recorded'));
}

/** Why a run (and the step it was in) ended cancelled: who, and what they said. */
export function cancelError(by: string, reason: string | null, stepId?: string, where = ''): RunError {
  return { code: 'RUN_CANCELLED', message: `cancelled by ${by}${where}${reason ? `: ${reason}` : ''}`, details: { by, reason }, ...(stepId ? { step_id: stepId } : {}) };
}
