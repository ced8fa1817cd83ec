/**
 * The `xyn` CLI from source in a child process, as the tests run it: the
 * repo as cwd, and an environment without the machine's own XYN_ and HXO_ variables
 * (two worker threads unless `env` says otherwise).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';

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

export interface Serving {
  child: ChildProcess;
  pid: number;
  url: string;
  port: number;
  stderr: () => string;
  /** Its JSON log lines (stdout) so far. */
  logs: () => string;
  /** SIGTERM, then its exit code. */
  stop: () => Promise<number | null>;
}

/**
 * Starts `xyn serve --data DIR --port PORT` and resolves once it says it is
 * up; rejects with its stderr if it exits first (the test's timeout bounds the rest).
 */
export function startServe(dataDir: string, port = 0, env: Record<string, string> = {}): Promise<Serving> {
  const child = xynProcess(['serve', '--data', dataDir, '--port', String(port)], env);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  let logs = '';
  child.stdout.on('data', (b: Buffer) => (logs += b.toString()));
  return new Promise((resolve, reject) => {
    void exited.then((code) => reject(new Error(`serve exited (${code}) before it was up: ${stderr}`)));
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      const up = /node up on (http:\/\/[^:]+:(\d+))/.exec(stderr);
      if (!up) return;
      resolve({
        child,
        pid: child.pid as number,
        url: up[1] as string,
        port: Number(up[2]),
        stderr: () => stderr,
        logs: () => logs,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}

/** The admiral token a first `xyn serve` printed, once, on its stderr. */
export function admiralToken(serving: Serving): string {
  const printed = /\n(xyn_[A-Za-z0-9_-]{43})\n/.exec(serving.stderr());
  if (!printed) throw new Error(`no admiral token in the node's stderr: ${serving.stderr()}`);
  return printed[1] as string;
}

/**
 * A `xyn serve` for a whole suite, on a data dir in a temp dir of its own:
 * started before the suite's tests, stopped (and the temp dir removed) after;
 * the returned object holds it once it is up, with the admiral token.
 */
export function servePerSuite(env: Record<string, string> = {}): { dir: string; data: string; serve: Serving; admiral: string } {
  const tmp = mkdtempSync(join(tmpdir(), 'xyn-test-'));
  const suite = { dir: tmp, data: join(tmp, 'data') } as { dir: string; data: string; serve: Serving; admiral: string };
  beforeAll(async () => {
    suite.serve = await startServe(suite.data, 0, env);
    // An open node (XYN_AUTH=open) makes no token: everyone is admiral.
    suite.admiral = env.XYN_AUTH === 'open' ? '' : admiralToken(suite.serve);
  }, 60_000);
  afterAll(async () => {
    if (suite.serve?.child.exitCode === null) await suite.serve.stop();
    rmSync(tmp, { recursive: true, force: true });
  });
  return suite;
}
