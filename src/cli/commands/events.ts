/**
 * `xyn events`: reads the node's event log from its data directory, one JSON
 * event per line; `--follow` keeps printing new events as a running node
 * appends them (LMDB lets this process read while `xyn serve` writes).
 *
 * Retention trims the oldest events. Without `--since` the output starts at
 * the oldest kept; `--since` below it is refused (exit 2, naming the oldest
 * seq) rather than printing a shorter history as if it were whole. If the
 * node trims past a `--follow` that fell behind, one line on stderr says
 * which seqs are gone and the output goes on from the oldest kept: stdout
 * stays events only.
 */
import type { Command } from 'commander';
import { openStore, EventLog } from '../../store/index.ts';
import { existsSync } from 'node:fs';
import { compilePattern, ValidationError } from '../../kernel/index.ts';
import { configFromFlags, withDataFlag, type NodeFlags } from '../config-flags.ts';
import { nonNegativeInt } from '../exit.ts';

interface EventsFlags extends NodeFlags {
  topic?: string;
  since?: number;
  limit?: number;
  follow?: boolean;
}

const POLL_MS = 200;
const PAGE = 1000;

export function registerEvents(program: Command): void {
  withDataFlag(program.command('events'))
    .description('print events from the log (NDJSON); --follow to keep streaming')
    .option('--topic <pattern>', 'topic pattern, NATS rules (hxo.shard.*, xyn.>)')
    .option('--since <seq>', 'only events after this seq', nonNegativeInt('--since'))
    .option('--limit <n>', 'at most this many events (without --follow)', nonNegativeInt('--limit'))
    .option('--follow', 'keep printing new events until interrupted')
    .action(async (flags: EventsFlags) => {
      const matches = flags.topic ? compilePattern(flags.topic) : undefined;
      const config = await configFromFlags(flags);
      if (!existsSync(config.storePath)) {
        throw new ValidationError(`no event log at ${config.storePath}: start a node there first (xyn serve --data ${config.dataDir})`, '--data');
      }
      const store = openStore({ path: config.storePath });
      const log = new EventLog(store);
      let cursor = log.oldestSeq - 1;
      /** Prints matching events after the cursor, up to `limit`; returns how many were printed. */
      const print = (limit: number): number => {
        let printed = 0;
        for (;;) {
          const page = log.read({ since: cursor, limit: PAGE });
          for (const event of page) {
            if (printed >= limit) return printed;
            cursor = event.seq;
            if (matches && !matches(event.event_name)) continue;
            process.stdout.write(JSON.stringify(event) + '\n');
            printed++;
          }
          if (page.length < PAGE) return printed;
        }
      };
      try {
        if (flags.since !== undefined) {
          if (flags.since < cursor) {
            throw new ValidationError(
              `--since ${flags.since} is below the oldest event kept (seq ${cursor + 1}): events up to seq ${cursor} were trimmed by retention (XYN_EVENTS_RETAIN_DAYS, XYN_EVENTS_MAX_BYTES); use --since ${cursor}, or leave it out, to print what is kept`,
              '--since',
            );
          }
          cursor = flags.since;
        }
        if (!flags.follow) {
          print(flags.limit ?? Number.MAX_SAFE_INTEGER);
          return;
        }
        let stop = false;
        process.once('SIGINT', () => (stop = true));
        process.once('SIGTERM', () => (stop = true));
        while (!stop) {
          log.refresh();
          const floor = log.oldestSeq - 1;
          if (floor > cursor) {
            process.stderr.write(`xyn: events ${cursor + 1}..${floor} were trimmed by retention before they were printed; going on from seq ${floor + 1}\n`);
            cursor = floor;
          }
          if (print(Number.MAX_SAFE_INTEGER) === 0) await new Promise((r) => setTimeout(r, POLL_MS));
        }
      } finally {
        await store.close();
      }
    });
}
