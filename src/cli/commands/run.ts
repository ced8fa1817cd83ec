/**
 * `xyn run FILE`: validates a plan, runs it in this process to the end (a
 * live progress bar on a TTY), prints the report, and exits 0 only when the
 * plan is certified. Running the same file against the same data dir again
 * resumes it (the plan id comes from the plan's digest); a plan that was
 * aborted gets its report back, with a line on stderr saying how to resume
 * it. `--resume ID` names the plan to continue: it must be a plan of the
 * data dir, and the plan in FILE (the same digest); an aborted one is resumed.
 * Ctrl-C stops the plan, saying how to go on (interrupt.ts). It holds the
 * data dir's lock while it runs: one node per data dir.
 */
import { planIdArg } from '../exit.ts';
import type { Command } from 'commander';
import { dirname, resolve } from 'node:path';
import { ValidationError } from '../../core/errors.ts';
import { commandLog } from '../command-log.ts';
import { preparePlan, type HxoEngine } from '../../hxo/engine.ts';
import { startNode } from '../../node/node.ts';
import { NodeStoppingError, StoppedForSpaceError } from '../../hxo/engine-errors.ts';
import { JobKindRegistry } from '../../hxo/plan/job-kinds.ts';
import { readPlanFile } from '../../hxo/plan/plan.ts';
import { summary } from '../summary.ts';
import { withDataDirLock } from '../../store/data-dir-lock.ts';
import { configFromFlags, withDataFlag, type NodeFlags } from '../config-flags.ts';
import { showProgress } from '../progress.ts';
import { haltOnInterrupt } from '../interrupt.ts';
import { abortedHint, resumeCommand, storedPlanRecord } from '../plan-record.ts';

interface RunFlags extends NodeFlags {
  json?: boolean;
  resume?: string;
  /** commander's --no-memo */
  memo: boolean;
}

export function registerRun(program: Command): void {
  withDataFlag(program.command('run'))
    .argument('<file>', 'plan file (YAML or JSON)')
    .description('run a plan to the end in this process; exit 0 only if certified')
    .option('--json', 'print the report as JSON')
    .option('--resume <plan_id>', 'resume this plan id', planIdArg)
    .option('--no-memo', 'run every shard: reuse no output of an earlier run (this run\'s outputs are still offered to later ones)')
    .action(async (file: string, flags: RunFlags) => {
      const path = resolve(file);
      const raw = readPlanFile(path);
      const config = await configFromFlags(flags);
      // Refuse a bad plan before anything is locked, started or written.
      const registry = new JobKindRegistry();
      for (const module of config.HXO_JOB_KIND_MODULES) await registry.loadModule(module, process.cwd());
      const prepared = await preparePlan(raw, registry, config, dirname(path));
      const resuming = flags.resume !== undefined ? await storedPlanRecord(flags, config, flags.resume, '--resume') : undefined;
      if (resuming && resuming.digest !== prepared.digest) {
        throw new ValidationError(`plan ${resuming.plan_id} is ${resuming.plan_name}, not the plan in ${file} (its digest differs)`, '--resume');
      }
      await withDataDirLock(config.dataDir, 'run', async () => {
        // stdout carries the report: logs (warnings and worse) go to stderr.
        // On a full disk it stops (one line, exit 1) rather than wait: the same command goes on once there is room.
        const node = await startNode(config, { log: commandLog(config), waitForSpace: false, registry, engine: true });
        const { kernel } = node;
        try {
          const engine = node.engine as HxoEngine;
          let full: { path: string; free: number; needed: number } | undefined;
          kernel.space.onFull((c) => {
            full ??= { path: c.path, free: c.free_bytes, needed: engine.space.neededBytes() };
            engine.halt();
          });
          const submitted =
            resuming?.report?.state === 'aborted'
              ? await engine.resume(resuming.plan_id, { prepared, memo: flags.memo })
              : await engine.submit(raw, { baseDir: dirname(path), prepared, memo: flags.memo, ...(resuming ? { planId: resuming.plan_id } : {}) });
          const stop = process.stderr.isTTY ? showProgress(() => engine.status(submitted.planId)) : () => {};
          const again = `run the same command again (or \`${resumeCommand(submitted.planId, flags)}\`)`;
          const report = await haltOnInterrupt(() => engine.halt(), submitted.finished.finally(stop), again).catch((err: unknown) => {
            if (!full || !(err instanceof NodeStoppingError)) throw err;
            throw new StoppedForSpaceError(submitted.planId, full.path, full.free, full.needed, err.progress);
          });
          process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : summary(report));
          if (report.state === 'aborted') process.stderr.write(abortedHint(report.plan_id, flags));
          process.exitCode = report.truth_certified ? 0 : 1;
        } finally {
          await node.stop();
        }
      });
    });
}
