/**
 * `xyn serve`: starts a node and stays up until SIGINT/SIGTERM, then stops in
 * order (pending events flushed, actors stopped, threads ended, store closed).
 */
import type { Command } from 'commander';
import { startKernel } from '../../kernel/index.ts';
import { HxoEngine } from '../../hxo/index.ts';
import { configFromFlags, withDataFlag, type NodeFlags } from '../config-flags.ts';

export function registerServe(program: Command): void {
  withDataFlag(program.command('serve'))
    .description('start a node on this machine (data in ./.xyn by default)')
    .option('--host <host>', 'address to bind (XYN_HOST, default 127.0.0.1)')
    .option('--port <port>', 'port to bind (XYN_PORT, default 8000)')
    .action(async (flags: NodeFlags) => {
      const config = configFromFlags(flags);
      const kernel = await startKernel(config);
      if (config.HXO_ENABLED) {
        const engine = new HxoEngine(kernel);
        const resumed = await engine.start();
        if (resumed.length) process.stderr.write(`xyn: resuming ${resumed.length} unfinished plan(s): ${resumed.join(', ')}\n`);
      }
      process.stderr.write(
        `xyn: node up — data in ${config.dataDir} (store ${config.storePath}, ${config.XYN_WORKERS} workers). Ctrl-C to stop.\n`,
      );
      await new Promise<void>((resolve) => {
        // Nothing else holds the event loop open until the API server exists.
        const keepAlive = setInterval(() => {}, 1 << 30);
        const onSignal = (signal: NodeJS.Signals): void => {
          process.stderr.write(`xyn: ${signal} received, stopping\n`);
          clearInterval(keepAlive);
          resolve();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      });
      await kernel.stop();
      process.stderr.write('xyn: stopped\n');
    });
}
