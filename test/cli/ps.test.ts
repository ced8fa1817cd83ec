/**
 * `xyn ps` as a user runs it: against a running `xyn serve`, found through
 * its data dir or named with --url, the tree as an indented table (root, its
 * children, the pool and its threads) or, with --json, the API's answer;
 * without a node, one line saying how to start one and exit 1.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ActorTree } from '../../src/api/routes/actors.ts';
import { uptime } from '../../src/cli/actor-table.ts';
import { servePerSuite, xynSync } from '../helpers/cli.ts';

const node = servePerSuite();

describe('xyn ps', () => {
  it('finds the node serving the data dir and prints its tree, indented by depth, one column each', () => {
    const r = xynSync(['ps', '--data', node.data, '--token', node.admiral]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect((lines[0] as string).split(/\s+/)).toEqual(['NAME', 'KIND', 'STATE', 'MAILBOX', 'HANDLED', 'RESTARTS', 'UPTIME']);
    const row = (name: string) => lines.find((l) => l.trimStart().startsWith(`${name} `)) as string;
    expect(row('root')).toMatch(/^root\s+supervisor\s+running\s+0\s+\d+\s+0\s+\d+s$/);
    expect(row('audit')).toMatch(/^ {2}audit\s+topic\s+running\s/);
    expect(row('xyn')).toMatch(/^ {2}xyn\s+supervisor\s+running\s/);
    expect(row('pool')).toMatch(/^ {2}pool\s+pool\s+running\s/);
    // The tests' nodes run two worker threads (cliEnv), under the pool.
    expect(row('thread:0')).toMatch(/^ {4}thread:0\s+shard-worker\s+(idle|busy)\s+\d+\s+\d+\s+\d+\s+\d+s$/);
    expect(row('thread:1')).toMatch(/^ {4}thread:1\s/);
    expect(lines.some((l) => l.includes('thread:2'))).toBe(false);
    // Every column starts where its header does.
    const at = (lines[0] as string).indexOf('KIND');
    expect(row('thread:0').slice(at).startsWith('shard-worker')).toBe(true);
  });

  it('--url --json prints the answer of GET /api/v1/actors', () => {
    const r = xynSync(['ps', '--url', node.serve.url, '--token', node.admiral, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const answer = JSON.parse(r.stdout) as ActorTree;
    expect(answer.tree.name).toBe('root');
    expect(answer.tree.children?.find((c) => c.name === 'pool')?.children).toHaveLength(2);
    expect(typeof answer.at).toBe('number');
  });

  it('without a node: one line naming how to start one, exit 1; a URL where none answers, exit 1', () => {
    const empty = join(node.dir, 'empty');
    const r = xynSync(['ps', '--data', empty]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`xyn: no node is running on data dir ${empty}: start one with \`xyn serve --data ${empty}\`, or name one with --url\n`);
    const nowhere = xynSync(['ps', '--url', 'http://127.0.0.1:1']);
    expect(nowhere.status).toBe(1);
    expect(nowhere.stderr).toMatch(/^xyn: no answer from a node at http:\/\/127\.0\.0\.1:1/);
  });

  it('a token that may not view the node is refused: exit 2 naming hxo:view', () => {
    const viewer = xynSync(['token', 'create', '--role', 'viewer', '--url', node.serve.url, '--token', node.admiral]).stdout.trim();
    const r = xynSync(['ps', '--url', node.serve.url, '--token', viewer]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/403 forbidden: .*hxo:view/);
  });
});

describe('uptime, as ps prints it', () => {
  it('seconds, minutes and seconds, hours and minutes, days and hours; - when not running', () => {
    expect([0, 3_400, 252_000, 7_380_000, 2 * 86_400_000 + 3_600_000].map(uptime)).toEqual(['0s', '3s', '4m12s', '2h3m', '2d1h']);
    expect(uptime(null)).toBe('-');
  });
});
