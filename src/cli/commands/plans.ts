/**
 * `xyn status ID`, `xyn report ID` (from the data dir) and `xyn verify
 * REPORT.json` (offline: certificate signature and every proof).
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { createLogger, startKernel, ValidationError } from '../../kernel/index.ts';
import { HxoEngine, verifyReport } from '../../hxo/index.ts';
import { configFromFlags, withDataFlag, type NodeFlags } from '../config-flags.ts';
import { summary } from './run.ts';

export function registerPlanCommands(program: Command): void {
  withDataFlag(program.command('status'))
    .argument('<plan_id>')
    .description("a plan's status (seed 001 status fields) from the data dir")
    .action(async (planId: string, flags: NodeFlags) => {
      await withEngine(flags, (engine) => process.stdout.write(JSON.stringify(engine.status(planId), null, 2) + '\n'));
    });

  withDataFlag(program.command('report'))
    .argument('<plan_id>')
    .description("a finished plan's report from the data dir")
    .option('--json', 'print the report as JSON')
    .action(async (planId: string, flags: NodeFlags & { json?: boolean }) => {
      await withEngine(flags, (engine) => {
        const report = engine.report(planId);
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

async function withEngine(flags: NodeFlags, fn: (engine: HxoEngine) => void): Promise<void> {
  const config = configFromFlags(flags);
  const kernel = await startKernel({ ...config, XYN_WORKERS: 1 }, { log: createLogger('warn', 'stderr') });
  try {
    fn(new HxoEngine(kernel));
  } finally {
    await kernel.stop();
  }
}
