/**
 * One node per port, one node per data dir, with real processes: a second
 * `xyn serve` on a taken port, or a second writer (`serve`, `run`, `token
 * create`) on a data dir in use, is refused with exit 2 naming what holds
 * it, and the first node goes on as if nothing happened; the read-only
 * commands still work; a holder killed with SIGKILL leaves no stale lock;
 * of processes racing for a lock exactly one wins.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createServer, type AddressInfo } from 'node:net';
import type { PlanReport } from '../../src/hxo/report.ts';
import { tempDir } from '../kernel/helpers.ts';
import { REPO_ROOT, cliEnv, startServe, xynSync, type Serving } from '../helpers/cli.ts';

const dirs: ReturnType<typeof tempDir>[] = [];
const nodes: Serving[] = [];
function data(): string {
  const d = tempDir();
  dirs.push(d);
  return join(d.path, 'data');
}
async function serve(dir: string, port = 0): Promise<Serving> {
  const node = await startServe(dir, port);
  nodes.push(node);
  return node;
}
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => (n.child.exitCode === null && n.child.signalCode === null ? n.stop() : null)));
  for (const d of dirs.splice(0)) d.cleanup();
});

/** A port free right now, to ask for by number. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function healthy(url: string): Promise<boolean> {
  const r = await fetch(`${url}/api/v1/health`);
  return r.status === 200 && ((await r.json()) as { status: string }).status === 'ok';
}

describe('one node per port', () => {
  it('a second serve on a taken port exits 2 naming host:port; the first keeps answering', async () => {
    // A port asked for by number: one the kernel picks (port 0) is never shared, SO_REUSEPORT or not.
    const first = await serve(data(), await freePort());
    const second = xynSync(['serve', '--data', data(), '--port', String(first.port)]);
    expect(second.status).toBe(2);
    expect(second.stderr).toContain(`xyn: XYN_PORT: 127.0.0.1:${first.port} is in use: another process holds it`);
    expect(second.stderr).not.toContain('node up');
    // With SO_REUSEPORT both would listen and split the connections; every one reaches the first.
    for (let i = 0; i < 20; i++) expect(await healthy(first.url)).toBe(true);
  }, 60_000);
});

describe('one node per data dir', () => {
  it('a second serve, a run and token create on a data dir in use exit 2 naming the holder; its node.json stays; reads still work', async () => {
    const dir = data();
    const ran = xynSync(['run', 'blueprints/compute-hash-1k.yaml', '--data', dir, '--json']);
    expect(ran.status, ran.stderr).toBe(0);
    const planId = (JSON.parse(ran.stdout) as PlanReport).plan_id;
    // run released the lock when it ended: serve takes it.
    expect(existsSync(join(dir, 'lock.json'))).toBe(false);
    const node = await serve(dir);
    const holder = `data dir ${dir} is in use by pid ${node.pid} (xyn serve on ${node.url})`;

    const second = xynSync(['serve', '--data', dir, '--port', '0']);
    expect(second.status).toBe(2);
    expect(second.stderr).toBe(`xyn: ${holder}: stop it first, or use another data dir (--data DIR or XYN_DATA_DIR)\n`);
    const run = xynSync(['run', 'blueprints/compute-hash-1k.yaml', '--data', dir]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(holder);
    const token = xynSync(['token', 'create', '--role', 'viewer', '--data', dir]);
    expect(token.status).toBe(2);
    expect(token.stderr).toContain(`${holder}: change its tokens through it, with --url ${node.url} --token`);

    // The refused ones removed nothing of the node's.
    const nodeFile = JSON.parse(readFileSync(join(dir, 'node.json'), 'utf8')) as { pid: number; url: string };
    expect(nodeFile).toMatchObject({ pid: node.pid, url: node.url });
    expect(JSON.parse(readFileSync(join(dir, 'lock.json'), 'utf8'))).toMatchObject({ pid: node.pid, command: 'serve', url: node.url });
    expect(await healthy(node.url)).toBe(true);

    // Read-only commands do not need the lock.
    const status = xynSync(['status', planId, '--data', dir, '--json']);
    expect(status.status, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ plan_id: planId, truth_certified: true });
    expect(xynSync(['report', planId, '--data', dir, '--json']).status).toBe(0);
    const events = xynSync(['events', '--data', dir, '--topic', 'xyn.api.listening']);
    expect(events.status, events.stderr).toBe(0);
    expect(events.stdout).toContain(`"port":${node.port}`);
    expect(xynSync(['token', 'list', '--data', dir]).status).toBe(0);
    const doctor = xynSync(['doctor', '--data', dir, '--port', '0']);
    expect(doctor.status).toBe(1);
    expect(doctor.stdout).toContain(`FAIL data dir lock: ${dir} is in use by pid ${node.pid} (xyn serve on ${node.url})`);

    // Stopped, it lets go: both files are gone and a direct write works.
    expect(await node.stop()).toBe(0);
    expect(existsSync(join(dir, 'node.json'))).toBe(false);
    expect(existsSync(join(dir, 'lock.json'))).toBe(false);
    const after = xynSync(['token', 'create', '--role', 'viewer', '--data', dir]);
    expect(after.status, after.stderr).toBe(0);
  }, 120_000);

  it('a holder killed with SIGKILL leaves no stale lock: the next serve starts', async () => {
    const dir = data();
    const killed = await serve(dir);
    killed.child.kill('SIGKILL');
    await new Promise((resolve) => killed.child.once('exit', resolve));
    // Its files are left behind, naming a dead pid; the socket went with the process.
    expect(JSON.parse(readFileSync(join(dir, 'lock.json'), 'utf8'))).toMatchObject({ pid: killed.pid });
    const next = await serve(dir);
    expect(await healthy(next.url)).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'lock.json'), 'utf8'))).toMatchObject({ pid: next.pid, command: 'serve' });
    expect(JSON.parse(readFileSync(join(dir, 'node.json'), 'utf8'))).toMatchObject({ pid: next.pid });
  }, 60_000);
});

/** A lock-contender fixture process, answering one line per command. */
function contender(dir: string): { child: ChildProcessWithoutNullStreams; ask: (command: string) => Promise<string>; ready: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/lock-contender.ts', dir], { cwd: REPO_ROOT, env: cliEnv() });
  const answers: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else answers.push(line);
  });
  const nextLine = (): Promise<string> => new Promise((resolve) => (answers.length ? resolve(answers.shift() as string) : waiting.push(resolve)));
  return {
    child,
    ready: nextLine(),
    ask: (command) => {
      child.stdin.write(`${command}\n`);
      return nextLine();
    },
  };
}

describe('the data dir lock under contention', () => {
  it('of processes racing for it, exactly one wins each round; the others are refused naming it', async () => {
    const dir = data();
    const racers = Array.from({ length: 4 }, () => contender(dir));
    try {
      expect(await Promise.all(racers.map((r) => r.ready))).toEqual(racers.map(() => 'ready'));
      for (let round = 0; round < 25; round++) {
        const answers = await Promise.all(racers.map((r) => r.ask('lock')));
        const winners = answers.flatMap((a, i) => (a === 'won' ? [racers[i]] : []));
        expect(winners, `round ${round}: ${answers.join(', ')}`).toHaveLength(1);
        const winner = winners[0] as (typeof racers)[number];
        for (const a of answers.filter((x) => x !== 'won')) {
          // The winner's name may not be written yet when a loser looks: then it says so rather than guess.
          expect([`refused ${winner.child.pid}`, 'refused ?']).toContain(a);
        }
        expect(await winner.ask('release')).toBe('released');
      }
    } finally {
      for (const r of racers) r.child.stdin.end();
      await Promise.all(racers.map((r) => new Promise((resolve) => (r.child.exitCode === null ? r.child.once('exit', resolve) : resolve(null)))));
    }
  }, 60_000);
});
