/**
 * `xyn replay ID [--failed | --subtree I..J]`: runs shards of an ended plan
 * again in this process and certifies it anew, printing the report (exit 0
 * only when certified). By default it checks every stored output against its
 * leaf (bisection) and replays the ones that no longer match; `--failed`
 * gives the plan's failed shards fresh attempts; `--subtree I..J` replays
 * leaves I to J (inclusive). It holds the data dir's lock while it runs.
 */
import { planIdArg } from '../exit.ts';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { ValidationError } from '../../kernel/index.ts';
import type { HxoEngine, ReplaySelection } from '../../hxo/index.ts';
import { startNode } from '../../node/node.ts';
import { commandLog } from '../command-log.ts';
import { withDataDirLock } from '../../store/index.ts';
import { configFromFlags, withDataFlag, type NodeFlags } from '../config-flags.ts';
import { showProgress } from '../progress.ts';
import { summary } from '../summary.ts';

interface ReplayFlags extends NodeFlags {
  failed?: boolean;
  subtree?: [number, number];
  json?: boolean;
}

function leafRange(value: string): [number, number] {
  const m = /^(\d+)\.\.(\d+)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`--subtree must be FROM..TO (leaf indexes), got "${value}"`);
  return [Number(m[1]), Number(m[2])];
}

export function registerReplay(program: Command): void {
  withDataFlag(program.command('replay'))
    .argument('<plan_id>', 'the plan id', planIdArg)
    .description('run shards of an ended plan again and certify it anew (default: the ones whose stored output no longer matches its leaf)')
    .option('--failed', "replay the plan's failed shards")
    .option('--subtree <from..to>', 'replay the leaves from..to (inclusive)', leafRange)
    .option('--json', 'print the report as JSON')
    .action(async (planId: string, flags: ReplayFlags) => {
      if (flags.failed && flags.subtree) throw new ValidationError('--failed and --subtree cannot be combined', '--subtree');
      const selection: ReplaySelection = flags.failed ? { failed: true } : flags.subtree ? { subtree: flags.subtree } : { verify: true };
      const config = await configFromFlags(flags);
      await withDataDirLock(config.dataDir, 'replay', async () => {
        const node = await startNode(config, { log: commandLog(config), engine: true });
        try {
          const engine = node.engine as HxoEngine;
          for (const module of config.HXO_JOB_KIND_MODULES) await engine.registry.loadModule(module, process.cwd());
          const { finished, replaying } = await engine.replay(planId, selection);
          process.stderr.write(replaying.length === 0 ? 'xyn: nothing to replay\n' : `xyn: replaying ${replaying.length} shard(s)\n`);
          const stop = process.stderr.isTTY ? showProgress(() => engine.status(planId)) : () => {};
          const report = await finished.finally(stop);
          process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : summary(report));
          process.exitCode = report.truth_certified ? 0 : 1;
        } finally {
          await node.stop();
        }
      });
    });
}
