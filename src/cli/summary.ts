/**
 * A plan's report as the human-readable summary `xyn run`, `report`, `resume`
 * and `replay` print without --json; its status as `xyn status` prints it.
 */
import type { PlanReport, PlanStatus } from '../hxo/report.ts';

export function statusSummary(s: PlanStatus): string {
  const lines = [
    `plan ${s.plan_name} (${s.plan_id}): ${s.state}${s.paused ? ` — paused: ${s.paused}` : ''}`,
    `  shards: ${s.total_shards} total, ${s.done_shards} done, ${s.failed_shards} failed, ${s.reused_shards} reused, ${s.running_shards} running, ${s.pending_shards} pending`,
    `  merkle root: ${s.merkle_root ?? '(none)'}`,
    `  certified: ${s.truth_certified ? 'yes' : 'no'}`,
    `  started ${s.started_at}, ${s.finished_at ? `finished ${s.finished_at}` : s.state === 'running' ? `running at ${s.shards_per_second} shards/s, eta ${s.eta_seconds ?? '?'} s` : 'not finished'}`,
  ];
  return lines.join('\n') + '\n';
}

export function summary(r: PlanReport): string {
  const lines = [
    `plan ${r.plan_name} (${r.plan_id}): ${r.state}${r.reason ? ` — ${r.reason}` : ''}`,
    `  shards: ${r.total_shards} total, ${r.done_shards} done, ${r.failed_shards} failed, ${r.reused_shards} reused`,
    `  merkle root: ${r.merkle_root ?? '(none)'}`,
    `  certified: ${r.truth_certified ? `yes (${r.certificate?.certificate_id}, ${r.sample_proofs.length} proofs checked)` : 'no'}`,
    `  timings: partition ${r.timings.partition_ms} ms, execute ${r.timings.execute_ms} ms, merkle ${r.timings.merkle_ms} ms, certify ${r.timings.certify_ms} ms, total ${r.timings.total_ms} ms`,
  ];
  for (const s of r.stages) {
    lines.push(`  stage ${s.stage_id} (${s.kind}): ${s.done_shards}/${s.total_shards} done, p50 ${s.p50_ms} ms, p95 ${s.p95_ms} ms, ${s.duration_ms} ms (slo ${s.slo_ms} ms${s.slo_met ? '' : ', missed'})`);
    // Old reports (before executor identities) have neither field.
    if (s.executor_identity) lines.push(`    executor ${s.executor_identity}: ${s.reused_shards} reused${s.memo_source ? ` from plan ${s.memo_source}` : ''}`);
  }
  for (const f of r.failed.slice(0, 20)) lines.push(`  failed: ${f.stage_id}[${f.shard_index}] ${f.cas_id} after ${f.attempts} attempts: ${f.error}`);
  if (r.failed.length > 20) lines.push(`  ... and ${r.failed.length - 20} more failed shards (see --json)`);
  return lines.join('\n') + '\n';
}
