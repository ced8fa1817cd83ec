/**
 * `xyn status ID`, `xyn report ID` (from the data dir) and `xyn verify
 * REPORT.json` (offline: certificate signature and every proof).
 */
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import type { Database } from 'lmdb';
import { ValidationError } from '../../kernel/index.ts';
import { openStore } from '../../store/index.ts';
import { PLANS_DB, storedReport, storedStatus, verifyReport, type PlanRecord } from '../../hxo/index.ts';
import { configFromFlags, withDataFlag, type NodeFlags } from '../config-flags.ts';
import { summary } from './run.ts';

export function registerPlanCommands(program: Command): void {
  withDataFlag(program.command('status'))
    .argument('<plan_id>')
    .description("a plan's status (seed 001 status fields) from the data dir")
    .action(async (planId: string, flags: NodeFlags) => {
      await withPlans(flags, (plans) => process.stdout.write(JSON.stringify(storedStatus(plans, planId), null, 2) + '\n'));
    });

  withDataFlag(program.command('report'))
    .argument('<plan_id>')
    .description("a finished plan's report from the data dir")
    .option('--json', 'print the report as JSON')
    .action(async (planId: string, flags: NodeFlags & { json?: boolean }) => {
      await withPlans(flags, (plans) => {
        const report = storedReport(plans, planId);
        process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : summary(report));
      });
    });

  program
    .command('verify')
    .argument('<report>', 'REPORT.json as printed by xyn run --json or xyn report --json')
    .description('check a report offline: the certificate signature and every included proof')
    .option('--public-key <hex>', 'also require this node key to have signed it')
    .action((file: string, flags: { publicKey?: string }) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new ValidationError(`${file}: cannot read a JSON report (${(err as Error).message.split('\n')[0]})`, 'report');
      }
      const result = verifyReport(parsed, flags.publicKey ? { publicKeyHex: flags.publicKey } : {});
      if (result.ok) {
        process.stdout.write(`ok: signature valid, ${result.checked.proofs} proofs lead to the certified root\n`);
        return;
      }
      for (const e of result.errors) process.stderr.write(`xyn: ${e}\n`);
      process.stdout.write(`rejected: ${result.errors.length} problem(s)\n`);
      process.exitCode = 1;
    });
}

/** Reads plan records straight from the store: no node is started, nothing is written. */
async function withPlans(flags: NodeFlags, fn: (plans: Database<PlanRecord, string>) => void): Promise<void> {
  const config = configFromFlags(flags);
  if (!existsSync(config.storePath)) throw new ValidationError(`no plans at ${config.storePath}: nothing has run with this data dir`, '--data');
  const store = openStore({ path: config.storePath });
  try {
    fn(store.db<string, PlanRecord>(PLANS_DB));
  } finally {
    await store.close();
  }
}
