/**
 * `xyn notifications list|ack` as real processes against a real `xyn
 * serve`: a run that fails raises a notification, listed (filtered, paged)
 * and acknowledged from the command line; exit 2 for bad input and what the
 * node refuses (a second ack, an unknown id), 1 with no node at the URL.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotificationsClient } from '../../src/sdk/notifications.ts';
import { RunsClient } from '../../src/sdk/runs.ts';
import { waitFor } from '../kernel/helpers.ts';
import { servePerSuite, xynSync } from '../helpers/cli.ts';

const suite = servePerSuite();

const FAILING = {
  id: 'cli.failing',
  name: 'CLI failing',
  trigger: { event_type: 'app.cli.never' },
  inputs: [{ name: 'url' }],
  plan: [{ kind: 'action_task', id: 'fetch', action: 'http.call', with: { url: '{{inputs.url}}' } }],
};

const remote = () => ['--url', suite.serve.url, '--token', suite.admiral];
const xyn = (args: string[]) => xynSync([...args, ...remote()]);
const node = () => ({ url: suite.serve.url, token: suite.admiral });

describe('xyn notifications', () => {
  it('list → ack; a second ack, an unknown id and bad flags exit 2; no node exits 1', async () => {
    const file = join(suite.dir, 'cli.failing.json');
    writeFileSync(file, JSON.stringify(FAILING));
    expect(xyn(['blueprint', 'apply', file]).status).toBe(0);
    const run = await new RunsClient(node()).start('cli.failing', { inputs: { url: 'not a url' } });
    const notifications = new NotificationsClient(node());
    await waitFor(async () => (await notifications.list()).items.some((n) => n.run_id === run.run_id), 20_000, 'the notification of the failed run');
    const id = (await notifications.list()).items.find((n) => n.run_id === run.run_id)?.notification_id as string;

    const list = xyn(['notifications', 'list', '--status', 'open', '--severity', 'error']);
    expect(list.status, list.stderr).toBe(0);
    const [header, ...rows] = list.stdout.trimEnd().split('\n');
    expect(header?.split(/\s+/)).toEqual(['NOTIFICATION_ID', 'SEVERITY', 'STATUS', 'COUNT', 'CREATED_AT', 'TITLE']);
    const row = rows.find((r) => r.startsWith(id));
    expect(row?.split(/\s+/).slice(0, 4)).toEqual([id, 'error', 'open', '1']);
    expect(row).toContain('run of cli.failing failed at step fetch');
    const json = JSON.parse(xyn(['notifications', 'list', '--json', '--limit', '1']).stdout) as { items: { notification_id: string }[] };
    expect(json.items.map((n) => n.notification_id)).toEqual([id]);

    const ack = xyn(['notifications', 'ack', id, '--note', 'bad url in the form']);
    expect(ack.stderr).toBe('');
    expect(ack.stdout).toBe(`notification ${id} acked by admiral\n`);
    expect(ack.status).toBe(0);
    expect(await notifications.get(id)).toMatchObject({ status: 'acked', acked_by: 'admiral', ack_note: 'bad url in the form' });
    expect(xyn(['notifications', 'list', '--status', 'open']).stdout).not.toContain(id);

    for (const [args, message] of [
      [['notifications', 'ack', id], /^xyn: 409 conflict: notification .* was already acknowledged by admiral/],
      [['notifications', 'ack', '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b'], /^xyn: 404 not_found: no notification/],
      [['notifications', 'ack', 'nope'], /a notification id is a UUID/],
      [['notifications', 'list', '--severity', 'info'], /--severity must be one of critical, error, warning/],
      [['notifications', 'list', '--status', 'closed'], /--status must be one of open, acked/],
      [['notifications', 'list', '--limit', '0'], /--limit must be a whole number from 1 to 500/],
    ] as [string[], RegExp][]) {
      const out = xyn(args);
      expect(out.status, `${args.join(' ')}: ${out.stderr}`).toBe(2);
      expect(out.stderr, args.join(' ')).toMatch(message);
      expect(out.stdout).toBe('');
    }
    expect(xynSync(['notifications', 'list', '--url', 'http://127.0.0.1:9', '--token', suite.admiral]).status).toBe(1);
  }, 120_000);
});
