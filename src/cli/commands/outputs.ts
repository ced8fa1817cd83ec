/**
 * `xyn outputs ID [--stage S]`: what a plan's done shards produced, one JSON
 * line each in leaf order (stage_id, shard_index, leaf_index, cas_id, output,
 * output_digest), from the data dir or — with --url — a node's NDJSON
 * stream; written as stdout takes it, so a million lines need no more
 * memory than a page. `xyn artifact get SHA > FILE`: an artifact's bytes.
 */
import { planIdArg } from '../exit.ts';
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { ValidationError } from '../../kernel/index.ts';
import { JobKindRegistry, storedOutputPages, type OutputPage } from '../../hxo/index.ts';
import { Cas } from '../../store/index.ts';
import { openApi, type RemoteFlags } from '../api-client.ts';
import { configFromFlags, withDataFlag, withStore, type NodeFlags } from '../config-flags.ts';
import { writeOut } from '../stdout.ts';
import { isRemote, withRemoteFlags } from './plans.ts';

type Flags = NodeFlags & RemoteFlags;

export function registerOutputs(program: Command): void {
  withRemoteFlags(withDataFlag(program.command('outputs')))
    .argument('<plan_id>', 'the plan id', planIdArg)
    .description("what a plan's done shards produced: JSON lines in leaf order (from a node with --url, else the data dir)")
    .option('--stage <stage_id>', "only this stage's shards")
    .action(async (planId: string, flags: Flags & { stage?: string }) => {
      if (isRemote(flags)) {
        const query = flags.stage !== undefined ? `?stage=${encodeURIComponent(flags.stage)}` : '';
        const res = await openApi(flags, `/api/hxo/outputs/${encodeURIComponent(planId)}${query}`, 'application/x-ndjson');
        await copyOut(res);
        return;
      }
      const config = await configFromFlags(flags);
      if (!existsSync(config.storePath)) throw new ValidationError(`no plan ${planId} in ${config.dataDir}`, 'plan_id');
      const registry = new JobKindRegistry();
      for (const module of config.HXO_JOB_KIND_MODULES) await registry.loadModule(module, process.cwd());
      await withStore(flags, async (store) => {
        const pages = await storedOutputPages(store, planId, registry, config, flags.stage !== undefined ? { stage: flags.stage, cursor: 0 } : { cursor: 0 });
        for (const page of pages) if (!(await writeOut(lines(page)))) return;
      });
    });

  const artifact = program.command('artifact').description('artifacts: what executors stored in the CAS, by sha256');
  withRemoteFlags(withDataFlag(artifact.command('get')))
    .argument('<sha256>')
    .description("write an artifact's bytes to stdout (from a node with --url, else the data dir)")
    .action(async (sha: string, flags: Flags) => {
      if (!/^[0-9a-fA-F]{64}$/.test(sha)) throw new ValidationError(`an artifact is named by its sha256: 64 hex digits, got "${sha.slice(0, 80)}"`, 'sha256');
      const hash = sha.toLowerCase();
      if (isRemote(flags)) {
        const res = await openApi(flags, `/api/hxo/artifacts/${hash}`, 'application/octet-stream');
        await copyOut(res);
        return;
      }
      const config = await configFromFlags(flags);
      const bytes = existsSync(config.storePath) ? await withStore(flags, (store) => new Cas(store).get(hash)) : undefined;
      if (!bytes) throw new ValidationError(`no artifact ${hash} in ${config.dataDir}`, 'sha256');
      await writeOut(bytes);
    });
}

function lines(page: OutputPage): string {
  let chunk = '';
  for (const item of page.items) chunk += JSON.stringify(item) + '\n';
  return chunk;
}

/** A node's answer to stdout as it arrives; a cut stream (the node failed midway) throws. */
async function copyOut(res: Response): Promise<void> {
  if (!res.body) return;
  for await (const chunk of res.body) if (!(await writeOut(chunk))) return;
}
