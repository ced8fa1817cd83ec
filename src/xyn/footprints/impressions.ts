/**
 * A run's impressions, judged once it has ended (its end written): the
 * rules (impression-rules.ts) over its outcome, its footprints' sums by
 * metric and its blueprint's earlier runs — the p95 of their wall_ms, from
 * the last WALL_SAMPLES kept with the footprints, so no run is read back.
 * Stored with what they were judged on (`basis`), then `xyn.impression.recorded`.
 *
 *   const judge = new ImpressionJudge({ book, rules, bus, log });
 *   await judge.runEnded(run);
 */
import type { Bus } from '../../kernel/bus.ts';
import type { Logger } from '../../kernel/log.ts';
import type { Clock } from '../../core/clock.ts';
import type { RunRecord } from '../runs/records.ts';
import { publishRunEvent } from '../runs/run-events.ts';
import type { FootprintBook } from './footprint-book.ts';
import { evaluateImpressions, type ImpressionRule, type ImpressionScope } from './impression-rules.ts';

export interface ImpressionJudgeDeps {
  book: FootprintBook;
  rules: readonly ImpressionRule[];
  bus: Bus;
  log: Logger;
  clock: Clock;
}

export class ImpressionJudge {
  constructor(private readonly deps: ImpressionJudgeDeps) {}

  /** Judges an ended run, once: a run told twice (its actor restarted ended) keeps its first impressions. */
  async runEnded(run: RunRecord): Promise<void> {
    const { book, rules, bus, log, clock } = this.deps;
    if (book.impressionsOf(run.run_id)) return;
    const scope = this.scope(run);
    const { impressions, errors } = evaluateImpressions(rules, scope);
    for (const e of errors) log.warn({ run_id: run.run_id, rule: e.rule, err: e.message }, 'an impression rule could not be evaluated on this run; it gave no label');
    const record = { run_id: run.run_id, blueprint_id: run.blueprint_id, impressions, basis: scope, errors, evaluated_at: new Date(clock.now()).toISOString() };
    if (!(await book.saveImpressions(record, scope.run.wall_ms as number))) return;
    publishRunEvent(bus, log, 'xyn.impression.recorded', run, { impressions, ...(errors.length > 0 ? { errors } : {}) }, null, 'system');
  }

  private scope(run: RunRecord): ImpressionScope {
    const footprints: Record<string, number> = {};
    for (const row of this.deps.book.ofRun(run.run_id)) footprints[row.metric] = (footprints[row.metric] ?? 0) + row.quantity;
    const samples = this.deps.book.wallSamples(run.blueprint_id);
    const began = run.started_at ?? run.created_at;
    return {
      run: {
        status: run.status,
        blueprint_id: run.blueprint_id,
        blueprint_version: run.blueprint_version,
        trigger: run.trigger.kind,
        wall_ms: run.completed_at ? Math.max(0, Date.parse(run.completed_at) - Date.parse(began)) : 0,
        active_ms: run.active_ms,
        error_code: run.error?.code ?? null,
        failed_step: run.error?.step_id ?? null,
        step_count: run.step_count,
      },
      footprints,
      blueprint: { runs: samples.length, p95_wall_ms: percentile(samples, 0.95) },
    };
  }
}

/** The nearest-rank percentile `p` of `values`; null for none. */
function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] as number;
}
