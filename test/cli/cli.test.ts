import { afterEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { tempDir, waitFor } from '../kernel/helpers.ts';
import { xynProcess, xynSync } from '../helpers/cli.ts';

const xyn = (args: string[], env: Record<string, string> = {}) => xynSync(args, env, 30_000);

const dirs: ReturnType<typeof tempDir>[] = [];
const children: ChildProcess[] = [];
function data(): string {
  const d = tempDir();
  dirs.push(d);
  return d.path;
}
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) d.cleanup();
});

describe('xyn doctor', () => {
  it('prints the effective config with sources and masks secrets', () => {
    const r = xyn(['doctor', '--data', data(), '--port', '0'], { OPENAI_API_KEY: 'sk-secret-value', HXO_MAX_CONCURRENCY: '12' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/HXO_MAX_SHARDS\s+1000000 \[default\]/);
    expect(r.stdout).toMatch(/HXO_MAX_CONCURRENCY\s+12 \[env\]/);
    expect(r.stdout).toMatch(/OPENAI_API_KEY\s+\*\*\* \[env\]/);
    expect(r.stdout).not.toContain('sk-secret-value');
    expect(r.stdout).toMatch(/warn ANTHROPIC_API_KEY: not set/);
    expect(r.stdout).toContain('Nothing blocks a start.');
  });

  it('reports a port in use as blocking, with the fix', async () => {
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const r = xyn(['doctor', '--data', data(), '--port', String(port), '--json']);
      expect(r.status).toBe(1);
      const out = JSON.parse(r.stdout) as { checks: { name: string; ok: boolean; fix?: string }[] };
      const check = out.checks.find((c) => c.name === 'port');
      expect(check?.ok).toBe(false);
      expect(check?.fix).toMatch(/XYN_PORT/);
    } finally {
      server.close();
    }
  });
});

describe('bad input exits 2 with one line naming it', () => {
  it.each([
    [['doctor'], { HXO_SHARD_TIMEOUT_MS: '-5' }, /HXO_SHARD_TIMEOUT_MS: must be at least 1/],
    [['events', '--since', 'abc'], {}, /--since must be a non-negative integer, got "abc"/],
    [['events', '--topic', 'a..b', '--data', '/tmp'], {}, /invalid topic pattern "a\.\.b"/],
    [['launch'], {}, /unknown command 'launch'/],
    [['serve', '--bogus'], {}, /unknown option '--bogus'/],
  ] as [string[], Record<string, string>, RegExp][])('xyn %j', (args, env, message) => {
    const r = xyn(args, env);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('xyn serve and xyn events', () => {
  it('serve starts the kernel, says where its data lives, and stops cleanly on SIGTERM; events reads the log', async () => {
    const dir = data();
    const child = xynProcess(['serve', '--data', dir, '--port', '0']);
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    await waitFor(() => stderr.includes('node up'), 20_000, 'serve to start');
    expect(stderr).toContain(`data in ${dir}`);

    // A second process follows the log while the node runs.
    const follower = xynProcess(['events', '--data', dir, '--follow', '--topic', 'xyn.kernel.*']);
    children.push(follower);
    let followed = '';
    follower.stdout.on('data', (b: Buffer) => (followed += b.toString()));
    await waitFor(() => followed.includes('"xyn.kernel.started"'), 20_000, 'follower to print the start');

    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(0);
    expect(stderr).toContain('stopped');
    // JSON logs on stdout.
    const firstLog = JSON.parse(stdout.split('\n')[0] as string) as { event: string; level: number };
    expect(firstLog.event).toBe('xyn.kernel.started');
    await waitFor(() => followed.includes('"xyn.kernel.stopping"'), 10_000, 'follower to print the stop');
    follower.kill('SIGTERM');

    const r = xyn(['events', '--data', dir]);
    expect(r.status).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event_name: string; seq: number });
    expect(events[0]).toMatchObject({ event_name: 'xyn.kernel.started', seq: 1 });
    expect(events.at(-1)?.event_name).toBe('xyn.kernel.stopping');
    const limited = xyn(['events', '--data', dir, '--since', '1', '--limit', '1']);
    expect(limited.stdout.trim().split('\n')).toHaveLength(1);
    expect((JSON.parse(limited.stdout) as { seq: number }).seq).toBe(2);
  });
});
