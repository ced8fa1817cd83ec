/**
 * `xyn ps [--url URL] [--json]`: a running node's supervision tree
 * (`GET /api/v1/actors`) as an indented table (actor-table.ts), or with
 * --json the endpoint's answer. The tree lives only in the node, so it
 * always asks one: the node at --url (or XYN_URL), else the one serving the
 * data dir (--data), found by the data dir's lock, which names a serving
 * holder's URL for as long as it lives (a node.json would outlive a node
 * killed with SIGKILL). No node there: one line saying how to start one,
 * exit 1.
 */
import type { Command } from 'commander';
import { XynError } from '../../core/errors.ts';
import { dataDirHolder } from '../../store/data-dir-lock.ts';
import type { ActorTree } from '../../api/routes/actors.ts';
import { callApi, type RemoteFlags } from '../api-client.ts';
import { pathsFromFlags, withDataFlag, type NodeFlags } from '../config-flags.ts';
import { actorTable } from '../actor-table.ts';

export function registerPs(program: Command): void {
  withDataFlag(program.command('ps'))
    .description("a running node's actors as a tree: name, kind, state, mailbox, handled, restarts, uptime (the node at --url, else the one serving the data dir)")
    .option('--url <url>', 'ask the node at this URL (or XYN_URL)')
    .option('--token <token>', 'API token (XYN_TOKEN); it needs hxo:view')
    .option('--json', 'print the answer of GET /api/v1/actors')
    .action(async (flags: NodeFlags & RemoteFlags & { json?: boolean }) => {
      const url = flags.url ?? process.env.XYN_URL ?? (await servingNode(flags));
      const answer = await callApi<ActorTree>({ ...flags, url }, 'GET', '/api/v1/actors');
      process.stdout.write(flags.json ? JSON.stringify(answer, null, 2) + '\n' : actorTable(answer.tree));
    });
}

/** The URL of the node serving the data dir; none, an error naming how to start one (NO_NODE: exit 1, no bad input). */
async function servingNode(flags: NodeFlags): Promise<string> {
  const { dataDir } = await pathsFromFlags(flags);
  const holder = await dataDirHolder(dataDir);
  if (holder?.url) return holder.url;
  const start = `start one with \`xyn serve --data ${dataDir}\`, or name one with --url`;
  const who = holder ? `${holder.pid ? `pid ${holder.pid} (xyn ${holder.command ?? '?'})` : 'another process'}, which serves no API` : undefined;
  throw new XynError(who ? `data dir ${dataDir} is in use by ${who}: ${start}` : `no node is running on data dir ${dataDir}: ${start}`, 'NO_NODE', { data_dir: dataDir });
}
