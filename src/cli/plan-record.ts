/**
 * A plan of the data dir as `xyn run --resume` and `xyn resume` need it:
 * its record, read before anything is started (a refusal writes nothing),
 * and the lines that say how to continue a plan that ended aborted or was
 * interrupted.
 */
import { existsSync } from 'node:fs';
import { ValidationError } from '../core/errors.ts';
import type { Config } from '../kernel/config.ts';
import { storedRecord } from '../hxo/stored-plan.ts';
import type { PlanRecord } from '../hxo/checkpoints/plan-records.ts';
import { withStore, type NodeFlags } from './config-flags.ts';

/** The plan's record; refused (exit 2, naming `field`) when the data dir has no such plan. */
export async function storedPlanRecord(flags: NodeFlags, config: Config, planId: string, field: string): Promise<PlanRecord> {
  const record = existsSync(config.storePath) ? await withStore(flags, (store) => storedRecord(store, planId)) : undefined;
  if (!record) throw new ValidationError(`no plan ${planId} in ${config.dataDir}`, field);
  return record;
}

/** What `xyn run` and `xyn resume` print on stderr for a plan that ended aborted. */
export function abortedHint(planId: string, flags: NodeFlags): string {
  return `xyn: plan ${planId} was aborted; continue it with \`${resumeCommand(planId, flags)}\`\n`;
}

/** The command that continues the plan on the same data dir. */
export function resumeCommand(planId: string, flags: NodeFlags): string {
  return `xyn resume ${planId}${flags.data !== undefined ? ` --data ${flags.data}` : ''}`;
}
