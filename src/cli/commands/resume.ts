/**
 * `xyn resume ID`: continues an aborted plan, or one a stopped process left
 * unfinished, from its checkpoints to the end, and prints the report as
 * `xyn run` does (exit 0 only if certified). In this process on the data dir
 * (holding its lock, as `run` does), or through a node with --url
 * (`POST /api/hxo/resume/ID`, then its report).
 *
 * Refused with exit 2, one line: no such plan; running; already certified;
 * failed (`xyn replay ID --failed` is the way); or changed since it started
 * (prepared again from its record, its digest differs). The checks are made
 * before anything is started, so a refusal writes nothing.
 */
import { planIdArg } from '../exit.ts';
import type { Command } from 'commander';
import { startNode } from '../../node/node.ts';
import { commandLog } from '../command-log.ts';
import { JobKindRegistry, type HxoEngine, checkResumable, checkUnchanged, preparePlan, type PlanReport } from '../../hxo/index.ts';
import { DataDirLockedError, withDataDirLock } from '../../store/index.ts';
import { callApi, type RemoteFlags } from '../api-client.ts';
import { configFromFlags, withDataFlag, type NodeFlags } from '../config-flags.ts';
import { abortedHint, resumeCommand, storedPlanRecord } from '../plan-record.ts';
import { haltOnInterrupt } from '../interrupt.ts';
import { showProgress } from '../progress.ts';
import { awaitReport, isRemote, withRemoteFlags } from './plans.ts';
import { summary } from '../summary.ts';

type ResumeFlags = NodeFlags & RemoteFlags & { json?: boolean };

export function registerResume(program: Command): void {
  withRemoteFlags(withDataFlag(program.command('resume')))
    .argument('<plan_id>', 'the plan id', planIdArg)
    .description('continue an aborted or unfinished plan from its checkpoints to the end, and print its report; exit 0 only if certified')
    .option('--json', 'print the report as JSON')
    .action(async (planId: string, flags: ResumeFlags) => {
      const report = isRemote(flags) ? await resumeOnNode(flags, planId) : await resumeHere(flags, planId);
      process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : summary(report));
      if (report.state === 'aborted') process.stderr.write(abortedHint(report.plan_id, flags));
      process.exitCode = report.truth_certified ? 0 : 1;
    });
}

async function resumeOnNode(flags: ResumeFlags, planId: string): Promise<PlanReport> {
  await callApi(flags, 'POST', `/api/hxo/resume/${encodeURIComponent(planId)}`, {});
  return awaitReport(flags, planId);
}

async function resumeHere(flags: ResumeFlags, planId: string): Promise<PlanReport> {
  const config = await configFromFlags(flags);
  const record = await storedPlanRecord(flags, config, planId, 'plan_id');
  checkResumable(record, false);
  const registry = new JobKindRegistry();
  for (const module of config.HXO_JOB_KIND_MODULES) await registry.loadModule(module, process.cwd());
  const prepared = await preparePlan(record.source, registry, config, record.base_dir);
  checkUnchanged(record, prepared);
  try {
    return await withDataDirLock(config.dataDir, 'resume', async () => {
      // stdout carries the report: logs (warnings and worse) go to stderr.
      const node = await startNode(config, { log: commandLog(config), registry, engine: true });
      try {
        const engine = node.engine as HxoEngine;
        const resumed = await engine.resume(planId, { prepared });
        const stop = process.stderr.isTTY ? showProgress(() => engine.status(planId)) : () => {};
        return await haltOnInterrupt(() => engine.halt(), resumed.finished.finally(stop), `run \`${resumeCommand(planId, flags)}\` again`);
      } finally {
        await node.stop();
      }
    });
  } catch (err) {
    // A node holds the data dir: it is the one to resume the plan.
    if (!(err instanceof DataDirLockedError) || !err.url) throw err;
    throw new DataDirLockedError(err.path, err, `resume the plan through it: xyn resume ${planId} --url ${err.url}`);
  }
}
