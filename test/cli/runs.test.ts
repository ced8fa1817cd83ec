/**
 * `xyn runs list|show|start|approve|reject|cancel` and `xyn emit` as real
 * processes against a real `xyn serve`: blueprints applied through its
 * --url, runs started, listed, shown, their gates decided, cancelled, and an
 * emitted event starting a run; exit 0 on success, 2 for bad input and what
 * the node refuses, 1 with no node at the URL.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunsClient, type RunInfo } from '../../src/sdk/runs.ts';
import { waitFor } from '../kernel/helpers.ts';
import { servePerSuite, xynSync } from '../helpers/cli.ts';

const suite = servePerSuite();

const GATED = {
  id: 'cli.gated',
  name: 'CLI gated',
  trigger: { event_type: 'app.cli.never' },
  inputs: [{ name: 'qty' }],
  plan: [
    { kind: 'gate', id: 'ok', mode: 'manual' },
    { kind: 'transform', id: 'after', outputs: { qty: '{{inputs.qty}}' } },
  ],
};
const PINGED = {
  id: 'cli.pinged',
  name: 'CLI pinged',
  trigger: { event_type: 'app.cli.ping' },
  inputs: [{ name: 'qty' }],
  plan: [{ kind: 'transform', id: 'echo', outputs: { qty: '{{inputs.qty}}' } }],
};

const remote = () => ['--url', suite.serve.url, '--token', suite.admiral];
const xyn = (args: string[]) => xynSync([...args, ...remote()]);

/** A run as the node has it, read through the SDK (waiting on conditions, not time; a GET on a connection the node closed is sent again). */
const runOf = (id: string): Promise<RunInfo> => new RunsClient({ url: suite.serve.url, token: suite.admiral }).get(id);

const waitingAtGate = (id: string) => waitFor(async () => (await runOf(id)).waiting_on === 'ok', 10_000, `run ${id} at its gate`);

function apply(bp: Record<string, unknown>): void {
  const file = join(suite.dir, `${bp.id as string}.json`);
  writeFileSync(file, JSON.stringify(bp));
  const applied = xyn(['blueprint', 'apply', file]);
  expect(applied.stderr).toBe('');
  expect(applied.status).toBe(0);
}

function started(args: string[]): string {
  const out = xyn(['runs', 'start', ...args]);
  expect(out.stderr).toBe('');
  expect(out.status).toBe(0);
  const m = /^run ([0-9a-f-]{36}) created \(blueprint cli\.gated@1\)\n$/.exec(out.stdout);
  expect(m, out.stdout).not.toBeNull();
  return (m as RegExpExecArray)[1] as string;
}

describe('xyn runs and xyn emit', () => {
  it('start → list → show → approve; a second approve and a bad start exit 2', async () => {
    apply(GATED);
    const id = started(['cli.gated', '--input', 'qty=3']);
    await waitingAtGate(id);

    const list = xyn(['runs', 'list']);
    expect(list.status, list.stderr).toBe(0);
    const [header, ...rows] = list.stdout.trimEnd().split('\n');
    expect(header?.split(/\s+/)).toEqual(['RUN_ID', 'STATUS', 'BLUEPRINT', 'WAITING_ON', 'CREATED_AT']);
    expect(rows.find((r) => r.startsWith(id))?.split(/\s+/).slice(0, 4)).toEqual([id, 'running', 'cli.gated@1', 'ok']);
    const json = JSON.parse(xyn(['runs', 'list', '--blueprint', 'cli.gated', '--json']).stdout) as { items: { run_id: string; inputs: unknown }[]; next_cursor: null };
    expect(json.items[0]).toMatchObject({ run_id: id, inputs: { qty: 3 } });

    const show = xyn(['runs', 'show', id]);
    expect(show.status, show.stderr).toBe(0);
    expect(show.stdout).toContain(`run ${id} (CLI gated): running — waiting at gate ok`);
    expect(show.stdout).toContain('trigger: manual, by admiral');
    expect(show.stdout).toContain('inputs: {"qty":3}');
    expect(show.stdout).toMatch(/ 1\. ok\s+gate\s+running\s+waiting for approval\n/);
    expect(show.stdout).toMatch(/ 2\. after\s+transform\s+created\n/);

    const approved = xyn(['runs', 'approve', id, 'ok', '--reason', 'fine by me']);
    expect(approved.stderr).toBe('');
    expect(approved.stdout).toBe(`run ${id}: gate ok approved by admiral\n`);
    expect(approved.status).toBe(0);
    await waitFor(async () => (await runOf(id)).status === 'completed', 10_000, 'the run completed');
    const shown = JSON.parse(xyn(['runs', 'show', id, '--json']).stdout) as { run: { status: string; outputs: unknown }; steps: { step_id: string; gate?: unknown }[] };
    expect(shown.run.status).toBe('completed');
    expect(shown.steps[0]?.gate).toMatchObject({ decision: 'approved', by: 'admiral', reason: 'fine by me' });
    expect(xyn(['runs', 'show', id]).stdout).toMatch(/ 1\. ok\s+gate\s+completed\s+approved by admiral: fine by me\n/);

    const again = xyn(['runs', 'approve', id, 'ok']);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/^xyn: 409 conflict: step ok of run .* is not waiting for a decision/);

    for (const [args, message] of [
      [['runs', 'start', 'cli.gated'], /^xyn: 400 invalid_inputs: .*qty/],
      [['runs', 'start', 'cli.nothing'], /^xyn: 404 not_found: /],
      [['runs', 'start', 'Not A Ref'], /^xyn: 400 bad_request: body\.blueprint_ref/],
      [['runs', 'start', 'cli.gated', '--inputs', '[1]'], /--inputs must be a JSON object/],
      [['runs', 'start', 'cli.gated', '--input', 'novalue'], /--input must be NAME=VALUE/],
      [['runs', 'list', '--status', 'sleeping'], /--status must be one of created, running, completed, failed, cancelled/],
      [['runs', 'list', '--limit', '0'], /--limit must be a whole number from 1 to 500/],
      [['runs', 'show', 'not-a-run'], /a run id is a UUID/],
      [['runs', 'show', '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b'], /^xyn: 404 not_found: no run/],
    ] as [string[], RegExp][]) {
      const out = xyn(args);
      expect(out.status, `${args.join(' ')}: ${out.stderr}`).toBe(2);
      expect(out.stderr, args.join(' ')).toMatch(message);
      expect(out.stdout).toBe('');
    }
  }, 120_000);

  it('reject fails the run; cancel ends a waiting one (again: exit 2); list pages with --limit and --cursor', async () => {
    const rejected = started(['cli.gated', '--inputs', '{"qty": 1}']);
    const cancelled = started(['cli.gated', '--input', 'qty=2']);
    await waitingAtGate(rejected);
    await waitingAtGate(cancelled);

    const reject = xyn(['runs', 'reject', rejected, 'ok', '--reason', 'no']);
    expect(reject.stdout).toBe(`run ${rejected}: gate ok rejected by admiral\n`);
    expect(reject.status).toBe(0);
    await waitFor(async () => (await runOf(rejected)).status === 'failed', 10_000, 'the rejected run failed');
    expect(xyn(['runs', 'show', rejected]).stdout).toContain('error: GATE_REJECTED: rejected by admiral: no (step ok)');

    const cancel = xyn(['runs', 'cancel', cancelled, '--reason', 'not today']);
    expect(cancel.stderr).toBe('');
    expect(cancel.stdout).toBe(`run ${cancelled} cancelled\n`);
    expect(cancel.status).toBe(0);
    const twice = xyn(['runs', 'cancel', cancelled]);
    expect(twice.status).toBe(2);
    expect(twice.stderr).toMatch(/409 conflict: run .* has already ended cancelled/);

    const first = xyn(['runs', 'list', '--blueprint', 'cli.gated', '--limit', '1']);
    expect(first.status).toBe(0);
    expect(first.stdout.split('\n')[1]?.startsWith(cancelled)).toBe(true);
    const more = /^more: xyn runs list --cursor ([0-9a-f-]{36})\n$/.exec(first.stderr);
    expect(more, first.stderr).not.toBeNull();
    const second = xyn(['runs', 'list', '--blueprint', 'cli.gated', '--limit', '1', '--cursor', (more as RegExpExecArray)[1] as string]);
    expect(second.stdout.split('\n')[1]?.startsWith(rejected)).toBe(true);
    const failed = xyn(['runs', 'list', '--status', 'failed', '--json']);
    expect((JSON.parse(failed.stdout) as { items: { run_id: string }[] }).items.map((r) => r.run_id)).toEqual([rejected]);
  }, 120_000);

  it('xyn emit publishes an event that starts a run of the blueprint it triggers; bad data and reserved names exit 2; no node exit 1', async () => {
    apply(PINGED);
    const emitted = xyn(['emit', 'app.cli.ping', '--data', '{"qty": 5, "extra": "x"}']);
    expect(emitted.stderr).toBe('');
    expect(emitted.status).toBe(0);
    const m = /^event app\.cli\.ping seq (\d+) \(([0-9a-f-]{36})\)\n$/.exec(emitted.stdout);
    expect(m, emitted.stdout).not.toBeNull();
    const seq = Number((m as RegExpExecArray)[1]);

    let runs: { run_id: string; inputs: unknown; trigger: unknown; status: string }[] = [];
    await waitFor(
      () => {
        const out = xyn(['runs', 'list', '--blueprint', 'cli.pinged', '--json']);
        runs = (JSON.parse(out.stdout) as { items: typeof runs }).items;
        return runs.length > 0;
      },
      30_000,
      'a run of cli.pinged',
    );
    expect(runs[0]).toMatchObject({ inputs: { qty: 5 }, trigger: { kind: 'event', event_name: 'app.cli.ping', event_seq: seq } });

    for (const [args, message] of [
      [['emit', 'app.cli.ping', '--data', '[1]'], /--data must be a JSON object/],
      [['emit', 'app.cli.ping', '--data', '{nope'], /--data must be a JSON object/],
      [['emit', 'xyn.run.completed'], /^xyn: 403 forbidden: event_name: .*node-owned namespace "xyn"/],
      [['emit', 'bad..name'], /^xyn: 400 bad_request: event_name: invalid topic/],
    ] as [string[], RegExp][]) {
      const out = xyn(args);
      expect(out.status, `${args.join(' ')}: ${out.stderr}`).toBe(2);
      expect(out.stderr, args.join(' ')).toMatch(message);
    }

    const nowhere = xynSync(['runs', 'list', '--url', 'http://127.0.0.1:1', '--token', suite.admiral]);
    expect(nowhere.status).toBe(1);
    expect(nowhere.stderr).toMatch(/^xyn: no answer from a node at http:\/\/127\.0\.0\.1:1/);
  }, 120_000);
});
