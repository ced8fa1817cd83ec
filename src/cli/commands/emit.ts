/**
 * `xyn emit NAME [--data JSON] [--json]`: emits an event on a running node
 * (`POST /api/v1/events`, through `--url`, `--token`; or XYN_URL,
 * XYN_TOKEN), as a monitor or a script would; blueprints whose trigger
 * matches NAME start runs. Prints `event NAME seq N (EVENT_ID)`. Data that
 * is not a JSON object, or a name the node refuses (its own namespaces), is
 * exit 2.
 *
 *   xyn emit app.order.placed --data '{"qty": 3}'
 */
import { InvalidArgumentError, type Command } from 'commander';
import { emitEvent } from '../../sdk/runs.ts';
import { remoteOf, type RemoteFlags } from '../api-client.ts';
import { withNodeFlags } from './plans.ts';

function dataArg(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(`--data must be a JSON object: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidArgumentError(`--data must be a JSON object, got ${value.length > 40 ? `${value.slice(0, 40)}…` : value}`);
  return parsed as Record<string, unknown>;
}

export function registerEmit(program: Command): void {
  withNodeFlags(program.command('emit'))
    .argument('<name>', 'the event name: dot-separated tokens (app.order.placed), not in the hxo, xyn or genesis namespaces')
    .description('emit an event on a running node; blueprints triggered by it start runs')
    .option('--data <json>', "the event's data: a JSON object (default {})", dataArg)
    .option('--json', 'print the event as appended')
    .action(async (name: string, flags: RemoteFlags & { data?: Record<string, unknown>; json?: boolean }) => {
      const event = await emitEvent(remoteOf(flags), name, flags.data ?? {});
      process.stdout.write(flags.json ? `${JSON.stringify(event, null, 2)}\n` : `event ${event.event_name} seq ${event.seq} (${event.event_id})\n`);
    });
}
