/**
 * `xyn gc [--dry-run] [--json]`: applies retention to a data dir (the plans
 * beyond XYN_RETAIN_PLANS / XYN_RETAIN_DAYS lose their checkpoints, outputs
 * and the artifacts only they refer to; reports stay) and says what it freed.
 * `xyn compact`: rewrites the store file without its free pages. Both hold the
 * data dir's lock (a running node applies retention itself); a dry run only
 * reads, so it works beside a running node too.
 */
import type { Command } from 'commander';
import type { GcReport } from '../../hxo/retention/retention.ts';
import type { PlanRecord } from '../../hxo/checkpoints/plan-records.ts';
import { configFromFlags, withDataFlag, withStore, type NodeFlags } from '../config-flags.ts';

interface GcFlags extends NodeFlags {
  dryRun?: boolean;
  json?: boolean;
}

export function registerStoreCommands(program: Command): void {
  withDataFlag(program.command('gc'))
    .description('apply retention (XYN_RETAIN_PLANS, XYN_RETAIN_DAYS): collect the data of the plans it no longer keeps; their reports stay')
    .option('--dry-run', 'say what it would free; change nothing')
    .option('--json', 'print what it did as JSON')
    .action(async (flags: GcFlags) => {
      const { withDataDirLock, DataDirLockedError } = await import('../../store/index.ts');
      const { checkCheckpointFormat, checkpointDb } = await import('../../hxo/checkpoints/checkpoint-records.ts');
      const { PLANS_DB } = await import('../../hxo/checkpoints/plan-records.ts');
      const { Memo } = await import('../../hxo/checkpoints/memo.ts');
      const { PlanCollector, applyRetention } = await import('../../hxo/retention/retention.ts');
      const config = await configFromFlags(flags);
      const policy = { plans: config.XYN_RETAIN_PLANS, days: config.XYN_RETAIN_DAYS };
      const gc = (): Promise<GcReport> =>
        withStore(flags, (store) => {
          checkCheckpointFormat(store);
          const plans = store.db<string, PlanRecord>(PLANS_DB);
          return applyRetention(new PlanCollector(store, plans, checkpointDb(store), new Memo(store)), plans, policy, { dryRun: flags.dryRun ?? false, spared: new Set() });
        });
      let report: GcReport;
      try {
        report = flags.dryRun ? await gc() : await withDataDirLock(config.dataDir, 'gc', gc);
      } catch (err) {
        if (!(err instanceof DataDirLockedError)) throw err;
        throw new DataDirLockedError(err.path, err, `the node applies retention itself every XYN_GC_INTERVAL_MS; one plan now: DELETE /api/hxo/plans/{id} on ${err.url ?? 'its URL'}`);
      }
      process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : describeGc(report));
    });

  withDataFlag(program.command('compact'))
    .description('rewrite the store compacted (free pages given back to the disk), swapped in atomically')
    .option('--json', 'print the sizes as JSON')
    .action(async (flags: NodeFlags & { json?: boolean }) => {
      const { withDataDirLock, compactStore } = await import('../../store/index.ts');
      const config = await configFromFlags(flags);
      const sizes = await withDataDirLock(config.dataDir, 'compact', () => compactStore(config.storePath));
      process.stdout.write(flags.json ? JSON.stringify(sizes) + '\n' : `xyn compact: ${config.storePath}/data.mdb ${mib(sizes.before)} → ${mib(sizes.after)}\n`);
    });
}

function describeGc(r: GcReport): string {
  const verb = r.dry_run ? 'would collect' : 'collected';
  const lines = [
    `xyn gc: ${verb} ${r.plans.length} plan(s) (keeping the last ${r.policy.plans || 'all'} plans, ${r.policy.days ? `${r.policy.days} days` : 'any age'}): ${mib(r.checkpoint_bytes)} of checkpoints, ${mib(r.artifact_bytes)} of artifacts`,
    ...r.plans.map((p) => `  ${p.plan_id} ${p.plan_name} (created ${p.created_at}): ${p.reason}; ${p.shards} shards, ${p.artifacts} artifacts`),
  ];
  if (!r.dry_run && r.plans.length > 0) lines.push('  their reports stay (xyn report, xyn verify); the store file keeps its size until `xyn compact`');
  return lines.join('\n') + '\n';
}

function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
