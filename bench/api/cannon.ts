/**
 * autocannon in a process of its own (bench/api/load.ts), driven from a
 * bench: `cannon()` starts it, hands it the URL once it has loaded (its own
 * start-up falls before what it measures) and reads back its one JSON line.
 * Shared by bench/api.ts and bench/runs.ts.
 *
 *   const c = await cannon(`http://127.0.0.1:${port}/api/v1/health`, token, 8, 3, 500);
 *   c.p99_corrected;
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Cannon {
  rps: number;
  /** 2xx responses (the latencies are theirs). */
  requests: number;
  p50: number;
  p99: number;
  max: number;
  /** At a fixed rate: p99 with what coordinated omission hides added back (bench/api/load.ts). */
  p99_corrected: number;
  /** autocannon's own p99, whose correction is off at a fixed rate (bench/api/load.ts). */
  autocannon_p99: number;
  non2xx: number;
}

/**
 * The load generator gets a higher priority where that is allowed (root), so
 * that on a machine whose cores the server saturates it measures the server,
 * not its own wait for a CPU. Benches say so in their output.
 */
export const CLIENT_NICE = canRaisePriority() ? ['nice', '-n', '-10'] : [];

function canRaisePriority(): boolean {
  try {
    const before = getPriority();
    setPriority(before - 1);
    setPriority(before);
    return true;
  } catch {
    return false;
  }
}

/**
 * autocannon in its own process (bench/api/load.ts): `rate` fixes the
 * requests/s, else as many as it can. The load starts once the process has
 * loaded, on `url` — or on what `start` gives (it may submit the work to
 * measure), and then runs until what `start` returned as `until` settles.
 */
export async function cannon(
  target: string | (() => Promise<{ url: string; until: Promise<unknown> }>),
  token: string,
  connections: number,
  seconds: number,
  rate?: number,
): Promise<Cannon> {
  const argv = [process.execPath, '--import', 'tsx', join(root, 'bench/api/load.ts'), token, String(connections), String(seconds), ...(rate ? [String(rate)] : [])];
  const [command, ...rest] = [...CLIENT_NICE, ...argv] as [string, ...string[]];
  const child = spawn(command, rest, { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  // Work under load may run for minutes on a slow machine: the answer may take as long.
  const next = linesOf(child, 'the load generator', (seconds + 60) * 1000);
  if ((await next()) !== 'ready') throw new Error('the load generator did not start');
  const { url, until } = typeof target === 'string' ? { url: target, until: undefined } : await target();
  child.stdin.write(`${url}\n`);
  void until?.finally(() => child.stdin.write('stop\n'));
  return JSON.parse(await next()) as Cannon;
}

/**
 * The lines a child process prints, one per call. Never waits forever: a
 * child that exits, or says nothing for `silentMs`, is a failure of the bench.
 */
export function linesOf(child: ChildProcessByStdio<Writable | null, Readable, null>, name: string, silentMs: number): () => Promise<string> {
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    const silent = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        child.kill();
        reject(new Error(`${name}: no answer within ${silentMs / 1000} s`));
      }, silentMs);
    });
    try {
      const line = await Promise.race([lines.next(), silent]);
      if (line.done) throw new Error(`${name} exited (${child.exitCode}) before answering`);
      return line.value;
    } finally {
      clearTimeout(timer);
    }
  };
}
