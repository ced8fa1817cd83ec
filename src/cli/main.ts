/**
 * The `xyn` command. Each subcommand lives in its own module under commands/,
 * and only the module of the command being run is loaded (a node's modules
 * take most of a second to load; `xyn status` should not wait for them).
 * Bad input of any kind (flags, config values) is one line naming what is
 * wrong and exit code 2; nothing is written.
 */
import { Command, CommanderError } from 'commander';
import { exitCodeFor, messageFor } from './exit.ts';
import { VERSION } from '../core/version.ts';

type Register = (program: Command) => void;

/** Which module registers each command, in the order `xyn --help` lists them. */
const COMMANDS: [names: string[], load: () => Promise<Register>][] = [
  [['serve'], async () => (await import('./commands/serve.ts')).registerServe],
  [['doctor'], async () => (await import('./commands/doctor.ts')).registerDoctor],
  [['events'], async () => (await import('./commands/events.ts')).registerEvents],
  [['run'], async () => (await import('./commands/run.ts')).registerRun],
  [['blueprint'], async () => (await import('./commands/blueprint.ts')).registerBlueprint],
  [['runs'], async () => (await import('./commands/runs.ts')).registerRuns],
  [['notifications'], async () => (await import('./commands/notifications.ts')).registerNotifications],
  [['artifacts'], async () => (await import('./commands/artifacts.ts')).registerArtifacts],
  [['emit'], async () => (await import('./commands/emit.ts')).registerEmit],
  [['resume'], async () => (await import('./commands/resume.ts')).registerResume],
  [['status', 'report', 'submit', 'abort', 'verify'], async () => (await import('./commands/plans.ts')).registerPlanCommands],
  [['plans'], async () => (await import('./commands/plan-list.ts')).registerPlanList],
  [['ps'], async () => (await import('./commands/ps.ts')).registerPs],
  [['outputs', 'artifact'], async () => (await import('./commands/outputs.ts')).registerOutputs],
  [['replay'], async () => (await import('./commands/replay.ts')).registerReplay],
  [['gc', 'compact'], async () => (await import('./commands/store.ts')).registerStoreCommands],
  [['bench'], async () => (await import('./commands/bench.ts')).registerBench],
  [['token'], async () => (await import('./commands/token.ts')).registerToken],
  [['secret'], async () => (await import('./commands/secret.ts')).registerSecret],
];

const program = new Command('xyn')
  .description('xyn: shard huge jobs, checkpoint every shard, certify the results, stream it all live')
  .version(VERSION)
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text) });

try {
  // The command named on the line, or (help, a typo) all of them.
  const named = process.argv[2];
  const wanted = COMMANDS.filter(([names]) => names.includes(named ?? ''));
  for (const [, load] of wanted.length > 0 ? wanted : COMMANDS) (await load())(program);
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    console.error(`xyn: ${messageFor(err)}`);
    process.exitCode = exitCodeFor(err);
  }
}
