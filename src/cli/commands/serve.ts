/**
 * `xyn serve`: starts a node — kernel, engine, and the API server on one port
 * — and stays up until SIGINT/SIGTERM, then stops in order (server closed,
 * pending events flushed, actors stopped, threads ended, store closed).
 * On the first start with token auth, an admiral token is made and printed
 * once. It holds the data dir's lock from start to stop (a second node on it
 * is refused), and its port exclusively.
 */
import type { Command } from 'commander';
import type { ApiServer } from '../../api/server.ts';
import { startNode } from '../../node/node.ts';
import { withDataDirLock } from '../../store/index.ts';
import { configFromFlags, withDataFlag, type NodeFlags } from '../config-flags.ts';
import { writeNodeFile } from '../node-file.ts';

export function registerServe(program: Command): void {
  withDataFlag(program.command('serve'))
    .description('start a node on this machine (data in ./.xyn by default)')
    .option('--host <host>', 'address to bind (XYN_HOST, default 127.0.0.1)')
    .option('--port <port>', 'port to bind (XYN_PORT, default 8000; 0 for any free port)')
    .action(async (flags: NodeFlags) => {
      const config = await configFromFlags(flags);
      // One node per data dir: refused here, naming the holder, before anything is opened.
      await withDataDirLock(config.dataDir, 'serve', async (lock) => {
        const node = await startNode(config, { api: { host: config.XYN_HOST, port: config.XYN_PORT }, serving: true });
        try {
          if (node.resumed.length) process.stderr.write(`xyn: resuming ${node.resumed.length} unfinished plan(s): ${node.resumed.join(', ')}\n`);
          const server = node.server as ApiServer;
          const url = `http://${config.XYN_HOST}:${server.port}`;
          lock.update({ url });
          const removeNodeFile = writeNodeFile(config.dataDir, url);
          if (config.XYN_AUTH === 'token' && server.tokens.empty) {
            const { token } = await server.tokens.create('admiral', 'admiral');
            process.stderr.write(`xyn: first start: an admiral token was made. It is shown this once; keep it:\n${token}\n`);
          }
          process.stderr.write(
            `xyn: node up on ${url} — data in ${config.dataDir} (${config.XYN_WORKERS} workers, auth ${config.XYN_AUTH}). Ctrl-C to stop.\n`,
          );
          await new Promise<void>((resolve) => {
            const onSignal = (signal: NodeJS.Signals): void => {
              process.stderr.write(`xyn: ${signal} received, stopping\n`);
              resolve();
            };
            process.once('SIGINT', onSignal);
            process.once('SIGTERM', onSignal);
          });
          removeNodeFile();
        } finally {
          await node.stop();
        }
      });
      process.stderr.write('xyn: stopped\n');
      // Keep-alive connections still open must not hold the process.
      process.exit(process.exitCode ?? 0);
    });
}
