/**
 * `xyn status ID`, `xyn report ID` (from a node's API with --url, else from
 * the data dir; a summary, or JSON with --json), `xyn submit FILE` and
 * `xyn abort ID` (a node's API), and `xyn verify REPORT.json` (offline:
 * certificate signature and every proof).
 */
import { planIdArg } from '../exit.ts';
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import type { Store } from '../../store/env.ts';
import { ValidationError } from '../../core/errors.ts';
import type { PlanReport, PlanStatus } from '../../hxo/report.ts';
import type { PlanRecord } from '../../hxo/checkpoints/plan-records.ts';
import { callApi, type RemoteFlags } from '../api-client.ts';
import { storePathFromFlags, withDataFlag, type NodeFlags } from '../config-flags.ts';
import { statusSummary, summary } from '../summary.ts';

export function registerPlanCommands(program: Command): void {
  withRemoteFlags(withDataFlag(program.command('status')))
    .argument('<plan_id>', 'the plan id', planIdArg)
    .description("a plan's status (state, shard counts, rate, eta): from a node with --url, else from the data dir")
    .option('--json', 'print the status as JSON')
    .action(async (planId: string, flags: NodeFlags & RemoteFlags & { json?: boolean }) => {
      const { storedStatus } = await import('../../hxo/checkpoints/stored-status.ts');
      const status = isRemote(flags) ? await callApi<PlanStatus>(flags, 'GET', `/api/hxo/status/${encodeURIComponent(planId)}`) : await withStoredPlans(flags, (store) => storedStatus(store, planId));
      process.stdout.write(flags.json ? JSON.stringify(status, null, 2) + '\n' : statusSummary(status));
    });

  withRemoteFlags(withDataFlag(program.command('report')))
    .argument('<plan_id>', 'the plan id', planIdArg)
    .description("an ended plan's report: from a node with --url, else from the data dir")
    .option('--json', 'print the report as JSON')
    .action(async (planId: string, flags: NodeFlags & RemoteFlags & { json?: boolean }) => {
      const { PLANS_DB, storedReport } = await import('../../hxo/checkpoints/plan-records.ts');
      const report = isRemote(flags) ? await callApi<PlanReport>(flags, 'GET', `/api/hxo/report/${encodeURIComponent(planId)}`) : await withStoredPlans(flags, (store) => storedReport(store.db<string, PlanRecord>(PLANS_DB), planId));
      process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : summary(report));
    });

  withNodeFlags(program.command('submit'))
    .argument('<file>', 'the plan (YAML or JSON)')
    .description("submit a plan to a running node's API; with --wait, wait for its end and print the report")
    .option('--wait', 'wait for the plan to end; exit 0 only if certified')
    .option('--json', 'print JSON')
    .action(async (file: string, flags: RemoteFlags & { wait?: boolean; json?: boolean }) => {
      const { readPlanFile } = await import('../../hxo/plan/plan.ts');
      const plan = readPlanFile(file);
      const submitted = await callApi<{ plan_id: string; hint?: string }>(flags, 'POST', '/api/hxo/create-and-submit', plan);
      // An aborted plan submitted again: the node says how to continue it.
      if (submitted.hint) process.stderr.write(`xyn: ${submitted.hint}\n`);
      if (!flags.wait) {
        process.stdout.write(flags.json ? JSON.stringify(submitted, null, 2) + '\n' : `${submitted.plan_id}\n`);
        return;
      }
      const report = await awaitReport(flags, submitted.plan_id);
      process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : summary(report));
      if (!report.truth_certified) process.exitCode = 1;
    });

  withNodeFlags(program.command('abort'))
    .argument('<plan_id>', 'the plan id', planIdArg)
    .description("abort a plan running on a node (its API)")
    .action(async (planId: string, flags: RemoteFlags) => {
      await callApi(flags, 'POST', `/api/hxo/abort/${encodeURIComponent(planId)}`, {});
      process.stderr.write(`xyn: aborting ${planId}\n`);
    });

  program
    .command('verify')
    .argument('<report>', 'REPORT.json as printed by xyn run --json or xyn report --json')
    .description('check a report offline: the certificate signature and every included proof; says what failed first, and how many proofs')
    .option('--public-key <hex>', 'also require this node key to have signed it')
    .option('--verbose', 'list every failure, one line each (each failing proof)')
    .option('--json', 'print the verification as JSON: ok, checked, errors (every failure), summary')
    .action(async (file: string, flags: { publicKey?: string; verbose?: boolean; json?: boolean }) => {
      const { verifyReport } = await import('../../hxo/certify/verify-report.ts');
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new ValidationError(`${file}: cannot read a JSON report (${(err as Error).message.split('\n')[0]})`, 'report');
      }
      const result = verifyReport(parsed, flags.publicKey ? { publicKeyHex: flags.publicKey } : {});
      if (!result.ok) process.exitCode = 1;
      if (flags.json) {
        process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      } else if (result.ok) {
        process.stdout.write(`ok: signature valid, ${result.checked.proofs} proofs lead to the certified root\n`);
      } else {
        const lines = flags.verbose ? result.errors : result.summary;
        for (const e of lines) process.stderr.write(`xyn: ${e}\n`);
        const more = lines.length < result.errors.length ? ` (--verbose lists all ${result.errors.length} failures)` : '';
        process.stdout.write(`rejected: ${lines.length} problem(s)${more}\n`);
      }
    });
}

/** Reads plans straight from the store: no node is started, nothing is written. */
async function withStoredPlans<T>(flags: NodeFlags, fn: (store: Store) => T): Promise<T> {
  const storePath = await storePathFromFlags(flags);
  if (!existsSync(storePath)) throw new ValidationError(`no plans at ${storePath}: nothing has run with this data dir`, '--data');
  const { openStore } = await import('../../store/env.ts');
  const store = openStore({ path: storePath });
  try {
    return fn(store);
  } finally {
    await store.close();
  }
}

/** Waits for a plan on a node to end (its status says finished), then reads its report. */
export async function awaitReport(flags: RemoteFlags, planId: string): Promise<PlanReport> {
  const path = `/api/hxo/status/${encodeURIComponent(planId)}`;
  while ((await callApi<PlanStatus>(flags, 'GET', path)).finished_at === null) await new Promise((r) => setTimeout(r, 250));
  return callApi<PlanReport>(flags, 'GET', `/api/hxo/report/${encodeURIComponent(planId)}`);
}

/** The node a command asks when no URL is given (api-client.ts `remoteOf`): where `xyn serve` listens. */
const DEFAULT_NODE = 'http://XYN_HOST:XYN_PORT, by default http://127.0.0.1:8000';

/** --url and --token of a command that only talks to a node (submit, abort). */
export function withNodeFlags(cmd: Command): Command {
  return cmd.option('--url <url>', `a running node (XYN_URL; default ${DEFAULT_NODE})`).option('--token <token>', 'API token (XYN_TOKEN)');
}

/** --url and --token of a command that asks a node only when told of one (`isRemote`), and otherwise reads the data dir. */
export function withRemoteFlags(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'ask the node at this URL (or XYN_URL) instead of reading the data dir')
    .option('--token <token>', `API token (XYN_TOKEN); given without a URL, asks the node at ${DEFAULT_NODE}`);
}

/** status and report ask a node when told where one is; otherwise they read the data dir. */
export function isRemote(flags: RemoteFlags): boolean {
  return flags.url !== undefined || flags.token !== undefined || process.env.XYN_URL !== undefined;
}
