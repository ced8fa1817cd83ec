/**
 * The `xyn` CLI from source in a child process, as the tests run it: the
 * repo as cwd, and an environment without the machine's own XYN_ and HXO_ variables
 * (two worker threads unless `env` says otherwise).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = ['--import', 'tsx', 'src/cli/main.ts'];

export function cliEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(XYN|HXO)_/.test(k))), XYN_WORKERS: '2', ...env };
}

export interface CliOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `xyn ARGS` to its end. */
export function xynSync(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...CLI, ...args], { cwd: REPO_ROOT, env: cliEnv(env), encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The child process of `xyn ARGS`. */
export function xynProcess(args: string[], env: Record<string, string> = {}): ChildProcess & { stdout: NodeJS.ReadableStream; stderr: NodeJS.ReadableStream } {
  return spawn(process.execPath, [...CLI, ...args], { cwd: REPO_ROOT, env: cliEnv(env) });
}

/** Starts `xyn ARGS` and collects its output; `kill()` SIGKILLs it. */
export function startXyn(args: string[], env: Record<string, string> = {}): { pid: number; kill: () => void; exited: Promise<CliOutcome>; done: () => boolean } {
  const child = xynProcess(args, env);
  let stdout = '';
  let stderr = '';
  let ended = false;
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<CliOutcome>((resolve) =>
    child.once('close', (code, signal) => {
      ended = true;
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { pid: child.pid as number, kill: () => child.kill('SIGKILL'), exited, done: () => ended };
}
