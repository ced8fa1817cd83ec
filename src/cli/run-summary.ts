/**
 * Runs as `xyn runs` prints them: a list as a table (run_id, status,
 * blueprint, waiting_on, created_at) and one run with its steps as a
 * readable summary.
 */
import type { RunInfo, StepInfo } from '../sdk/runs.ts';

const COLUMNS = ['RUN_ID', 'STATUS', 'BLUEPRINT', 'WAITING_ON', 'CREATED_AT'] as const;

export function runTable(runs: readonly RunInfo[]): string {
  const rows = runs.map((r) => [r.run_id, r.status, `${r.blueprint_id}@${r.blueprint_version}`, r.waiting_on ?? '-', r.created_at]);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(COLUMNS), ...rows.map(line)].join('\n') + '\n';
}

const json = (value: unknown): string => JSON.stringify(value);

export function runSummary(run: RunInfo, steps: readonly StepInfo[]): string {
  const trigger = run.trigger.kind === 'manual' ? `manual, by ${run.actor}` : `${run.trigger.kind}${run.trigger.event_name ? ` ${run.trigger.event_name}` : ''}${run.trigger.event_seq !== undefined ? ` (seq ${run.trigger.event_seq})` : ''}${run.trigger.scheduled_at ? ` ${run.trigger.scheduled_at}` : ''}`;
  const lines = [
    `run ${run.run_id} (${run.name}): ${run.status}${run.waiting_on ? ` — waiting at gate ${run.waiting_on}` : ''}`,
    `  blueprint: ${run.blueprint_id}@${run.blueprint_version}, priority ${run.priority}`,
    `  trigger: ${trigger}; correlation ${run.correlation_id}`,
    `  created ${run.created_at}${run.started_at ? `, started ${run.started_at}` : ''}${run.completed_at ? `, ended ${run.completed_at}` : ''}`,
    `  inputs: ${json(run.inputs)}`,
  ];
  if (run.outputs) lines.push(`  outputs: ${json(run.outputs)}`);
  if (run.error) lines.push(`  error: ${run.error.code}: ${run.error.message}${run.error.step_id ? ` (step ${run.error.step_id})` : ''}`);
  lines.push(`  steps (${run.steps_ended} of ${run.step_count} ended):`);
  const idWidth = Math.max(0, ...steps.map((s) => s.step_id.length));
  for (const s of steps) lines.push(`    ${String(s.index + 1).padStart(2)}. ${s.step_id.padEnd(idWidth)}  ${s.kind.padEnd(11)}  ${s.status.padEnd(9)}  ${stepNote(s)}`.trimEnd());
  return lines.join('\n') + '\n';
}

function stepNote(s: StepInfo): string {
  const gate = s.gate;
  if (gate && gate.decision === 'waiting') return 'waiting for approval';
  if (gate) return `${gate.decision} by ${gate.by}${gate.reason ? `: ${gate.reason}` : ''}`;
  if (s.error) return `${s.error.code}: ${s.error.message}`;
  if (s.action) return `${s.action}${s.attempts > 1 ? `, ${s.attempts} attempts` : ''}`;
  return '';
}
