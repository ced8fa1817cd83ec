/**
 * `container.exec`: one command in a fresh container on the node's
 * Docker-compatible engine (seed 004 §9.2), thrown away after — also when the
 * step times out, is cancelled or fails (§29.3: workcells are ephemeral).
 *
 * The container is closed by default: no network (`network: none`), a memory
 * limit (memory_mb, no swap beyond it), and of the host only the mounts the
 * step names, each inside the run's workspace (containers/mounts.ts). Its
 * output is kept up to max_output_bytes per stream; the whole of it goes to a
 * `log` artifact. Secrets come by reference (`env_refs`), so the recorded
 * input holds names only, and the outputs are scrubbed of their values.
 *
 * Not idempotent: what a command does to the world is not known.
 *
 *   await containerExec.execute({ image: 'alpine:3.20', command: 'echo hi', ... }, ctx)
 *   // { exit_code: 0, stdout: 'hi\n', stderr: '', truncated: false, oom_killed: false, image_id: 'sha256:…' }
 */
import { keepOutputArtifact } from './output-artifact.ts';
import type Docker from 'dockerode';
import type { Socket } from 'node:net';
import { posix } from 'node:path';
import { z } from 'zod';
import type { Action, ActionContext } from './action.ts';
import { ActionAbortedError, ActionInputError, ActionTimeoutError } from './errors.ts';
import { attachStdin, type BindMount, CappedOutput, containerOutput, ContainerEngineUnavailableError, ContainerExitError, ContainerOomError, PULL_POLICIES, presentImage, workspaceMounts } from '../containers/index.ts';

const NAME = 'container.exec';
const MiB = 1024 * 1024;
const STDERR_TAIL_CHARS = 500;
/** 128 + SIGKILL: how a shell, and the engine, report a process killed outright (the kernel's OOM killer among others). */
const KILLED_EXIT = 137;

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name is letters, digits and _, not starting with a digit');

const input = z
  .strictObject({
    image: z.string().min(1),
    /** An array runs as is (exec form); a string runs with `sh -c`. */
    command: z.union([z.string().min(1), z.array(z.string()).min(1)]),
    env: z.record(envName, z.string()).optional(),
    /** Variables whose values are secrets, by reference: `{ TOKEN: 'deploy-token' }`. */
    env_refs: z.record(envName, z.string().min(1)).optional(),
    workdir: z.string().refine((p) => posix.isAbsolute(p), 'must be an absolute path in the container').optional(),
    mounts: z.array(z.strictObject({ source: z.string().min(1), target: z.string().min(1), read_only: z.boolean().optional() })).max(32).default([]),
    network: z.enum(['none', 'default']).default('none'),
    timeout_ms: z.number().int().min(1).max(24 * 3600_000).default(600_000),
    memory_mb: z.number().int().min(6).max(1024 * 1024).default(512),
    pull: z.enum(PULL_POLICIES).default('if_missing'),
    max_output_bytes: z.number().int().min(0).max(64 * MiB).default(MiB),
    /** Written to the command's standard input, which is then closed. */
    stdin: z.string().max(64 * MiB).optional(),
    /** A non-zero exit fails the step (CONTAINER_EXIT_NONZERO, or CONTAINER_OOM); false: it is given as outputs. */
    check: z.boolean().default(true),
  })
  .refine((i) => !i.env || !i.env_refs || !Object.keys(i.env).some((k) => Object.hasOwn(i.env_refs ?? {}, k)), { path: ['env_refs'], message: 'names a variable env already sets; set each variable in one of them' });

const output = z.object({
  exit_code: z.number().int(),
  stdout: z.string(),
  stderr: z.string(),
  /** Whether stdout or stderr passed max_output_bytes and was cut (the log artifact has all of it). */
  truncated: z.boolean(),
  oom_killed: z.boolean(),
  image_id: z.string(),
});

export type ContainerExecInput = z.output<typeof input>;
export type ContainerExecOutput = z.output<typeof output>;

/** The container's environment: `env`, and `env_refs` resolved through the run's secrets. */
async function containerEnv(call: ContainerExecInput, ctx: ActionContext): Promise<string[]> {
  const env = Object.entries(call.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const refs = Object.entries(call.env_refs ?? {});
  if (refs.length === 0) return env;
  if (!ctx.secrets) throw new ActionInputError(`${NAME}: env_refs: this node resolves no secrets; pass the values some other way or remove env_refs`, 'env_refs');
  for (const [k, ref] of refs) env.push(`${k}=${await ctx.secrets.resolve(ref)}`);
  return env;
}

function createOptions(call: ContainerExecInput, ctx: ActionContext, env: string[], mounts: BindMount[]): Docker.ContainerCreateOptions {
  return {
    Image: call.image,
    Cmd: typeof call.command === 'string' ? ['sh', '-c', call.command] : call.command,
    Env: env,
    ...(call.workdir ? { WorkingDir: call.workdir } : {}),
    Tty: false,
    ...(call.stdin === undefined ? {} : { OpenStdin: true, StdinOnce: true, AttachStdin: true }),
    Labels: { 'xyn.managed': 'true', 'xyn.run_id': ctx.runId, 'xyn.step_id': ctx.stepId },
    HostConfig: {
      ...(call.network === 'none' ? { NetworkMode: 'none' } : {}),
      Memory: call.memory_mb * MiB,
      MemorySwap: call.memory_mb * MiB,
      Mounts: mounts,
    },
  };
}

/** `work`, or a rejection as soon as `signal` aborts (the caller then removes the container, which ends the work). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  // Its rejection reaches the caller below; one that comes after the abort has no one left to tell.
  work.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Reads the exited container's output, keeping what fits and writing it to the
 * step's log: one line per stretch of one stream, not one per frame (a
 * command writing a byte at a time would make a line of log per byte).
 */
async function readOutput(container: Docker.Container, kept: CappedOutput, ctx: ActionContext, signal: AbortSignal): Promise<void> {
  let stretch: { stream: string; parts: Buffer[] } | undefined;
  const flush = () => {
    if (stretch) ctx.stepLog?.write({ msg: 'container output', stream: stretch.stream, text: Buffer.concat(stretch.parts).toString('utf8') });
    stretch = undefined;
  };
  for await (const frame of containerOutput(container, signal)) {
    const part = kept.add(frame);
    if (part.length === 0) continue;
    if (stretch?.stream !== frame.stream) flush();
    (stretch ??= { stream: frame.stream, parts: [] }).parts.push(part);
  }
  flush();
}

/** The container's whole output, stdout and stderr as they came, scrubbed of the run's secrets: the log artifact's body. */
async function* fullOutput(container: Docker.Container, ctx: ActionContext): AsyncGenerator<Uint8Array> {
  for await (const { payload } of containerOutput(container)) {
    const text = payload.toString('utf8');
    yield Buffer.from(ctx.secrets ? ctx.secrets.scrub(text) : text);
  }
}

async function keepLog(container: Docker.Container, call: ContainerExecInput, exitCode: number, ctx: ActionContext): Promise<void> {
  await keepOutputArtifact(ctx, NAME, { name: 'container-output.log', kind: 'log', content_type: 'text/plain; charset=utf-8', body: fullOutput(container, ctx), metadata: { action: NAME, image: call.image, exit_code: exitCode } });
}

/** Kills (if running) and removes the container; one already gone is fine. */
async function removeContainer(container: Docker.Container, ctx: ActionContext): Promise<void> {
  try {
    await container.remove({ force: true, v: true });
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return;
    ctx.log?.warn({ err, container_id: container.id, run_id: ctx.runId, step_id: ctx.stepId }, 'container.exec: the container could not be removed; it is labelled xyn.managed=true for removal by hand');
  }
}

function exitHint(exitCode: number, memoryMb: number): string {
  if (exitCode === KILLED_EXIT) return ` (killed by SIGKILL; passing memory_mb, ${memoryMb} MiB, is a likely cause)`;
  return exitCode > 128 ? ` (killed by signal ${exitCode - 128})` : '';
}

async function runContainer(docker: Docker, call: ContainerExecInput, ctx: ActionContext, signal: AbortSignal, create: Docker.ContainerCreateOptions): Promise<ContainerExecOutput> {
  const imageId = await untilAborted(presentImage(docker, call.image, call.pull, signal), signal);
  const container = await docker.createContainer(create);
  let stdin: Socket | undefined;
  try {
    ctx.stepLog?.write({ msg: 'container created', container_id: container.id, image: call.image, image_id: imageId });
    stdin = call.stdin === undefined ? undefined : await attachStdin(docker, container.id);
    await untilAborted(container.start(), signal);
    stdin?.end(call.stdin ?? '');
    const { StatusCode: exitCode } = (await untilAborted(container.wait(), signal)) as { StatusCode: number };
    // Read once it has exited: a log followed while stdin is attached is not ended by Podman when the container exits.
    const kept = new CappedOutput(call.max_output_bytes);
    await untilAborted(readOutput(container, kept, ctx, signal), signal);
    const oomKilled = (await container.inspect()).State.OOMKilled;
    ctx.stepLog?.write({ msg: 'container exited', exit_code: exitCode, oom_killed: oomKilled, truncated: kept.truncated });
    await keepLog(container, call, exitCode, ctx);
    const scrub = (s: string) => (ctx.secrets ? ctx.secrets.scrub(s) : s);
    const out = { exit_code: exitCode, stdout: scrub(kept.text('stdout')), stderr: scrub(kept.text('stderr')), truncated: kept.truncated, oom_killed: oomKilled, image_id: imageId };
    if (call.check && oomKilled) throw new ContainerOomError(call.memory_mb, exitCode);
    if (call.check && exitCode !== 0) throw new ContainerExitError(exitCode, out.stderr.slice(-STDERR_TAIL_CHARS), exitHint(exitCode, call.memory_mb));
    return out;
  } finally {
    stdin?.destroy();
    await removeContainer(container, ctx);
  }
}

async function execute(call: ContainerExecInput, ctx: ActionContext): Promise<ContainerExecOutput> {
  if (ctx.signal.aborted) throw new ActionAbortedError(NAME);
  if (!ctx.containers) throw new ContainerEngineUnavailableError('(none)', 'this node gives its runs no container engine');
  // Refused before the engine is asked anything: no container is made for a step whose mounts leave the workspace.
  const mounts = await workspaceMounts(call.mounts, ctx.workspace);
  const env = await containerEnv(call, ctx);
  const docker = await ctx.containers.connect();
  const started = Date.now();
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), call.timeout_ms);
  try {
    return await runContainer(docker, call, ctx, AbortSignal.any([ctx.signal, deadline.signal]), createOptions(call, ctx, env, mounts));
  } catch (err) {
    if (ctx.signal.aborted) throw new ActionAbortedError(NAME);
    if (deadline.signal.aborted) throw new ActionTimeoutError(NAME, call.timeout_ms);
    throw err;
  } finally {
    clearTimeout(timer);
    ctx.footprints?.record({ metric: 'wall_ms', quantity: Date.now() - started, unit: 'ms', dims: { action: NAME, image: call.image } });
  }
}

export const containerExec: Action<ContainerExecInput, ContainerExecOutput> = {
  name: NAME,
  input,
  output,
  idempotent: false,
  execute,
};
