/**
 * `xyn plans [--json]`: the plans of a data dir (or of a node, with --url),
 * newest first — id, name, state, shards done / failed / total, created and
 * finished — so the id of a plan to resume, report or replay is one command
 * away. `unfinished` is a plan with no report that nothing here runs: the
 * process running it stopped (`xyn resume ID` continues it).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { newestFirst, storedPlans, type PlanSummary } from '../../hxo/index.ts';
import { callApi, type RemoteFlags } from '../api-client.ts';
import { configFromFlags, withDataFlag, withStore, type NodeFlags } from '../config-flags.ts';
import { isRemote, withRemoteFlags } from './plans.ts';

export function registerPlanList(program: Command): void {
  withRemoteFlags(withDataFlag(program.command('plans')))
    .description('list plans, newest first: id, name, state, shards done/failed/total, created, finished (from a node with --url, else the data dir)')
    .option('--json', 'print a JSON array')
    .action(async (flags: NodeFlags & RemoteFlags & { json?: boolean }) => {
      const plans = isRemote(flags) ? await nodePlans(flags) : await dataDirPlans(flags);
      if (flags.json) {
        process.stdout.write(JSON.stringify(plans, null, 2) + '\n');
        return;
      }
      for (const p of plans) process.stdout.write(line(p) + '\n');
    });
}

async function dataDirPlans(flags: NodeFlags): Promise<PlanSummary[]> {
  // Nothing has run here: no plans (and no store is made just to say so).
  if (!existsSync((await configFromFlags(flags)).storePath)) return [];
  return withStore(flags, (store) => storedPlans(store));
}

/** Every page of the node's list (it pages by plan id), newest first. */
async function nodePlans(flags: RemoteFlags): Promise<PlanSummary[]> {
  const all: PlanSummary[] = [];
  for (let cursor: string | null = null; ; ) {
    const page: { items: PlanSummary[]; next_cursor: string | null } = await callApi(flags, 'GET', `/api/hxo/plans?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    all.push(...page.items);
    cursor = page.next_cursor;
    if (cursor === null) break;
  }
  return all.sort(newestFirst);
}

function line(p: PlanSummary): string {
  const shards = `${p.done_shards}/${p.total_shards ?? '?'} done, ${p.failed_shards} failed`;
  return [p.plan_id, p.plan_name.padEnd(24), p.state.padEnd(10), shards.padEnd(28), `created ${p.created_at}`, p.finished_at ? `finished ${p.finished_at}` : ''].join('  ').trimEnd();
}
