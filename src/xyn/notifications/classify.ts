/**
 * Which events are worth a person's attention, and how they are told
 * (seed 004 §33.2): failures (`xyn.*.failed`, `xyn.*.*.failed`,
 * `xyn.*.validation_failed`), HXO's alerts (`hxo.alert`, but not its `info`
 * ones) and a plan's failed certification (`hxo.aggregate.failed`). Pure: an
 * event (and what the run's store says of its step) in, a notification's
 * content or nothing out.
 *
 * A step failure and the run failure it causes are one notification: the
 * run's (`xyn.run.failed` names the step in its error), so `xyn.step.failed`
 * raises one only for a step with `on_failure: continue` — the run goes on
 * and will not fail for it. A step or run cancelled is a person's choice,
 * not a failure to be told of. The notifier's own events (`xyn.notify.*`)
 * never raise one, so a notification cannot notify of itself.
 */
import type { XynEvent } from '../../core/event.ts';
import type { Severity } from './records.ts';

/** What the notifier subscribes to; `classify` decides on each event. */
export const NOTIFY_TOPICS = ['xyn.*.failed', 'xyn.*.*.failed', 'xyn.*.validation_failed', 'hxo.alert', 'hxo.aggregate.failed'];

export interface NotificationContent {
  severity: Severity;
  title: string;
  summary: string;
  /** Like events (the same failure of the same thing) share it: a burst of them collapses into one open notification. */
  key: string;
  run_id: string | null;
  step_id: string | null;
  plan_id: string | null;
  blueprint_id: string | null;
}

interface EventError {
  code?: unknown;
  message?: unknown;
  step_id?: unknown;
}

const SEVERITY_OF_ALERT: Readonly<Record<string, Severity>> = { critical: 'critical', error: 'error', warning: 'warning' };

/**
 * The notification an event raises, or null. `continues(runId, stepId)`
 * says whether a failed step's run goes on without it (`on_failure: continue`).
 */
export function classify(event: XynEvent, continues: (runId: string, stepId: string) => boolean): NotificationContent | null {
  const name = event.event_name;
  if (name.startsWith('xyn.notify.')) return null;
  const data = event.data;
  const error = (data.error ?? {}) as EventError;
  const code = text(error.code) ?? 'ERROR';
  const message = text(error.message) ?? text(data.message) ?? text(data.reason) ?? '';
  const blueprintId = text(data.blueprint_id);
  const base = { run_id: event.run_id ?? text(data.run_id), step_id: event.step_id ?? text(data.step_id), plan_id: text(data.plan_id), blueprint_id: blueprintId };
  switch (name) {
    case 'xyn.run.failed': {
      const stepId = text(error.step_id);
      const at = stepId ? ` at step ${stepId}` : '';
      return { ...base, step_id: stepId, severity: code === 'RUN_CRASHED' ? 'critical' : 'error', title: `run of ${blueprintId ?? 'a blueprint'} failed${at}`, summary: `${code}: ${message}`, key: `${name}|${blueprintId}|${stepId}|${code}` };
    }
    case 'xyn.step.failed': {
      if (!base.run_id || !base.step_id || code === 'RUN_CANCELLED' || !continues(base.run_id, base.step_id)) return null;
      return { ...base, severity: 'warning', title: `step ${base.step_id} of a run of ${blueprintId ?? 'a blueprint'} failed; the run goes on (on_failure: continue)`, summary: `${code}: ${message}`, key: `${name}|${blueprintId}|${base.step_id}|${code}` };
    }
    case 'hxo.alert': {
      const alertType = text(data.alert_type) ?? 'alert';
      const severity = data.severity === undefined ? 'error' : SEVERITY_OF_ALERT[String(data.severity)];
      if (!severity) return null;
      return { ...base, severity, title: `HXO alert ${alertType}${base.plan_id ? ` on plan ${base.plan_id}` : ''}`, summary: message, key: `${name}|${alertType}|${base.plan_id}` };
    }
    default: {
      const severity: Severity = name === 'xyn.trigger.failed' || name.endsWith('.validation_failed') ? 'warning' : 'error';
      const what = blueprintId ? ` (blueprint ${blueprintId})` : base.plan_id ? ` (plan ${base.plan_id})` : '';
      return { ...base, severity, title: `${name}${what}`, summary: text(error.code) ? `${code}: ${message}` : message, key: `${name}|${blueprintId ?? base.plan_id}|${code}` };
    }
  }
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
