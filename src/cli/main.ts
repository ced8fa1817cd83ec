/**
 * The `xyn` command. Each subcommand lives in its own module under commands/.
 * Bad input of any kind (flags, config values) is one line naming what is
 * wrong and exit code 2; nothing is written.
 */
import { Command, CommanderError } from 'commander';
import { registerServe } from './commands/serve.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerEvents } from './commands/events.ts';
import { registerRun } from './commands/run.ts';
import { registerPlanCommands } from './commands/plans.ts';
import { registerBench } from './commands/bench.ts';
import { registerReplay } from './commands/replay.ts';
import { registerToken } from './commands/token.ts';
import { registerStoreCommands } from './commands/store.ts';
import { registerResume } from './commands/resume.ts';
import { registerPlanList } from './commands/plan-list.ts';
import { registerOutputs } from './commands/outputs.ts';
import { exitCodeFor, messageFor } from './exit.ts';
import { VERSION } from './version.ts';

const program = new Command('xyn')
  .description('xyn: shard huge jobs, checkpoint every shard, certify the results, stream it all live')
  .version(VERSION)
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text) });

registerServe(program);
registerDoctor(program);
registerEvents(program);
registerRun(program);
registerPlanCommands(program);
registerBench(program);
registerReplay(program);
registerToken(program);
registerStoreCommands(program);
registerResume(program);
registerPlanList(program);
registerOutputs(program);

try {
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
