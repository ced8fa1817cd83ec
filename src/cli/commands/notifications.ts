/**
 * `xyn notifications list|ack`: the failures and critical events a running
 * node raised, through its API (`--url`, `--token`; or XYN_URL, XYN_TOKEN).
 * Bad input — a flag, a malformed id, and whatever the node refuses (an
 * unknown notification, one already acknowledged) — is one line on stderr
 * and exit 2; no node at the URL is exit 1.
 *
 *   xyn notifications list --status open --severity critical
 *   xyn notifications ack 0193… --note "disk replaced"
 */
import { InvalidArgumentError, type Command } from 'commander';
import { NotificationsClient, type NotificationInfo, type NotificationListQuery } from '../../sdk/notifications.ts';
import { remoteOf, type RemoteFlags } from '../api-client.ts';
import { withNodeFlags } from './plans.ts';
import { limitArg, shown } from './runs.ts';

const NOTIFICATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STATUSES = ['open', 'acked'] as const;
const SEVERITIES = ['critical', 'error', 'warning'] as const;
const COLUMNS = ['NOTIFICATION_ID', 'SEVERITY', 'STATUS', 'COUNT', 'CREATED_AT', 'TITLE'];

const client = (flags: RemoteFlags): NotificationsClient => new NotificationsClient(remoteOf(flags));
const print = (text: string): void => void process.stdout.write(text);
const printJson = (value: unknown): void => print(`${JSON.stringify(value, null, 2)}\n`);

function idArg(value: string): string {
  if (!NOTIFICATION_ID.test(value)) throw new InvalidArgumentError(`a notification id is a UUID (8-4-4-4-12 lowercase hex digits), got ${shown(value)}`);
  return value;
}

function oneOf<T extends string>(flag: string, allowed: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(allowed as readonly string[]).includes(value)) throw new InvalidArgumentError(`${flag} must be one of ${allowed.join(', ')}, got ${shown(value)}`);
    return value as T;
  };
}

function table(items: readonly NotificationInfo[]): string {
  const rows = items.map((n) => [n.notification_id, n.severity, n.status, String(n.count), n.created_at, n.title]);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(COLUMNS), ...rows.map(line)].join('\n') + '\n';
}

type ListFlags = RemoteFlags & { status?: NotificationInfo['status']; severity?: NotificationInfo['severity']; limit?: number; cursor?: string; json?: boolean };

export function registerNotifications(program: Command): void {
  const notifications = program.command('notifications').description('failures and critical events a running node raised (its API: --url, --token)');

  withNodeFlags(notifications.command('list'))
    .description('notifications, newest first, as a table: id, severity, status, count, created_at, title')
    .option('--status <status>', `only these (${STATUSES.join(', ')})`, oneOf('--status', STATUSES))
    .option('--severity <severity>', `only these (${SEVERITIES.join(', ')})`, oneOf('--severity', SEVERITIES))
    .option('--limit <n>', 'at most this many (1..500, default 50)', limitArg)
    .option('--cursor <id>', 'the page after this notification (the next page a list printed)', idArg)
    .option('--json', 'print the answer: {items, next_cursor}')
    .action(async (flags: ListFlags) => {
      const query: NotificationListQuery = { ...(flags.status ? { status: flags.status } : {}), ...(flags.severity ? { severity: flags.severity } : {}), ...(flags.limit ? { limit: flags.limit } : {}), ...(flags.cursor ? { cursor: flags.cursor } : {}) };
      const page = await client(flags).list(query);
      if (flags.json) return printJson(page);
      print(table(page.items));
      if (page.next_cursor) process.stderr.write(`more: xyn notifications list --cursor ${page.next_cursor}\n`);
    });

  withNodeFlags(notifications.command('ack'))
    .argument('<notification_id>', 'the notification', idArg)
    .description('acknowledge a notification (exit 2 if it already was)')
    .option('--note <text>', 'what was done about it: kept with it and on the audit trail')
    .option('--json', 'print the notification')
    .action(async (id: string, flags: RemoteFlags & { note?: string; json?: boolean }) => {
      const acked = await client(flags).ack(id, flags.note);
      if (flags.json) return printJson(acked);
      print(`notification ${acked.notification_id} acked by ${acked.acked_by}\n`);
    });
}
