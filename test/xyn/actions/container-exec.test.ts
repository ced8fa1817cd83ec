/**
 * container.exec against a real Docker-compatible API (podman's, started by
 * this file, test/helpers/podman.ts): output and exit codes, env and secrets,
 * workspace mounts and the ones refused, limits in time, memory and output,
 * an image or engine that is not there, and workflow runs that use it — one
 * to its end, one cancelled while its container runs. No container is left.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRetryable } from '../../../src/core/errors.ts';
import { ActionAbortedError, ActionInputError, ActionTimeoutError, containerExec, parseActionInput, type ActionContext, type ContainerExecOutput, type ContainersPort } from '../../../src/xyn/actions/index.ts';
import type { FootprintInput } from '../../../src/xyn/actions/action.ts';
import { loadConfig } from '../../../src/kernel/config.ts';
import { ContainerEngine, DEFAULT_ENGINE_ADDRESS, engineAddress } from '../../../src/xyn/containers/index.ts';
import { busOnLogPerTest, tempDir, waitFor } from '../../kernel/helpers.ts';
import { startPodman, type TestPodman } from '../../helpers/podman.ts';
import { workflowNodes } from '../runs/helpers.ts';
import { actionContext, refusedField } from './helpers.ts';

const t = busOnLogPerTest();
const startNode = workflowNodes();
let podman: TestPodman;
let engine: ContainerEngine;
let docker: Docker;
const dirs: { cleanup(): void }[] = [];

beforeAll(async () => {
  podman = await startPodman();
  engine = new ContainerEngine(podman.address);
  docker = await engine.connect();
}, 180_000);

afterAll(async () => {
  await podman?.stop();
  for (const d of dirs.splice(0)) d.cleanup();
}, 60_000);

/** The engine, counting how often an action asked for it. */
function countingEngine(inner: ContainersPort): ContainersPort & { connects: number } {
  const port = {
    address: inner.address,
    connects: 0,
    connect: () => {
      port.connects++;
      return inner.connect();
    },
  };
  return port;
}

interface Recorded {
  ctx: ActionContext;
  stepLog: Record<string, unknown>[];
  artifacts: { name: string; kind: string; text: string }[];
  footprints: FootprintInput[];
  workspace: string;
}

/** An action context on the test's engine and a fresh workspace, recording what the action writes to its ports. */
function context(extra: Partial<ActionContext> = {}): Recorded {
  const dir = tempDir();
  dirs.push(dir);
  const workspace = join(dir.path, 'workspace');
  const rec: Recorded = { ctx: undefined as unknown as ActionContext, stepLog: [], artifacts: [], footprints: [], workspace };
  rec.ctx = {
    ...actionContext(t.bus),
    runId: `run-${Math.random().toString(36).slice(2)}`,
    containers: engine,
    workspace,
    stepLog: { write: (e) => rec.stepLog.push(e) },
    footprints: { record: (f) => rec.footprints.push(f) },
    artifacts: {
      put: async (a) => {
        const chunks: Uint8Array[] = [];
        if (typeof a.body === 'string' || a.body instanceof Uint8Array) chunks.push(Buffer.from(a.body));
        else for await (const c of a.body) chunks.push(c);
        const text = Buffer.concat(chunks).toString('utf8');
        rec.artifacts.push({ name: a.name, kind: a.kind, text });
        return { artifact_id: `a${rec.artifacts.length}`, sha256: '', byte_length: Buffer.byteLength(text) };
      },
    },
    ...extra,
  };
  return rec;
}

function exec(raw: Record<string, unknown>, ctx: ActionContext = context().ctx): Promise<ContainerExecOutput> {
  return containerExec.execute(parseActionInput(containerExec, { image: podman.image, pull: 'never', ...raw }), ctx);
}

async function failure(p: Promise<unknown>): Promise<Error & { code?: string; details?: Record<string, unknown> }> {
  return p.then(
    () => expect.fail('the step succeeded'),
    (err: unknown) => err as Error,
  );
}

async function managed(filter = 'xyn.managed=true'): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [filter] } });
}

describe('container.exec', () => {
  it('runs a command: stdout and stderr apart, exit 0, the image id; nothing left', async () => {
    const rec = context();
    const out = await exec({ command: 'echo hello; echo oops >&2' }, rec.ctx);
    expect(out).toMatchObject({ exit_code: 0, stdout: 'hello\n', stderr: 'oops\n', truncated: false, oom_killed: false });
    expect(out.image_id).toMatch(/^(sha256:)?[0-9a-f]{64}$/);
    expect(containerExec.output.parse(out)).toEqual(out);
    expect(await exec({ command: ['echo', 'a b', '$HOME'] })).toMatchObject({ stdout: 'a b $HOME\n' });
    expect(await managed()).toEqual([]);
    expect(rec.footprints).toEqual([expect.objectContaining({ metric: 'wall_ms', unit: 'ms', dims: { action: 'container.exec', image: podman.image } })]);
    expect(rec.stepLog.filter((e) => e.msg === 'container output').map((e) => [e.stream, e.text])).toEqual(expect.arrayContaining([['stdout', 'hello\n'], ['stderr', 'oops\n']]));
    expect(rec.artifacts).toEqual([{ name: 'container-output.log', kind: 'log', text: expect.stringMatching(/hello\n[^]*oops\n|oops\n[^]*hello\n/) }]);
  });

  it('a non-zero exit fails CONTAINER_EXIT_NONZERO with the code and the end of stderr; check: false gives it back', async () => {
    const err = await failure(exec({ command: 'echo "disk is full" >&2; exit 3' }));
    expect(err).toMatchObject({ code: 'CONTAINER_EXIT_NONZERO', details: { exit_code: 3 } });
    expect(err.message).toMatch(/exited with code 3.*disk is full/);
    expect(await exec({ command: 'echo partial; exit 3', check: false })).toMatchObject({ exit_code: 3, stdout: 'partial\n' });
    expect(await managed()).toEqual([]);
  });

  it('writes stdin to the command and closes it: the command reads it to its end', async () => {
    const text = `line one\n${'x'.repeat(100_000)}\nlast line\n`;
    const out = await exec({ command: 'cat; echo done', stdin: text });
    expect(out.stdout).toBe(`${text}done\n`);
    expect(await exec({ command: ['echo', 'ignores stdin'], stdin: 'unread' })).toMatchObject({ exit_code: 0, stdout: 'ignores stdin\n' });
  });

  it('sets env, and env_refs from the run secrets, scrubbed from the outputs', async () => {
    const secret = 's3cr3t-value';
    const resolved: string[] = [];
    const rec = context({
      secrets: {
        resolve: (ref) => {
          resolved.push(ref);
          return Promise.resolve(secret);
        },
        scrub: <T>(v: T) => (typeof v === 'string' ? (v.replaceAll(secret, '[redacted]') as T) : v),
      },
    });
    const out = await exec({ command: 'echo "$GREETING $TOKEN"', env: { GREETING: 'hi' }, env_refs: { TOKEN: 'deploy-token' } }, rec.ctx);
    expect(resolved).toEqual(['deploy-token']);
    expect(out.stdout).toBe('hi [redacted]\n');
    expect(JSON.stringify(rec.artifacts)).not.toContain(secret);
    expect(refusedField(containerExec, { image: 'x', command: 'y', env: { A: '1' }, env_refs: { A: 'r' } })).toBe('env_refs');
    expect(refusedField(containerExec, { image: 'x', command: 'y', env: { '1A': '1' } })).toMatch(/^env/);
  });

  it("mounts a directory of the run's workspace: what the container writes, the host reads; read_only refuses writes", async () => {
    const rec = context();
    const out = await exec({ command: 'echo built > /out/result.txt && cat /in/config', mounts: [{ source: 'out', target: '/out' }, { source: 'in', target: '/in', read_only: true }], workdir: '/out' }, { ...rec.ctx, workspace: seeded(rec.workspace) });
    expect(out.stdout).toBe('from the host\n');
    expect(readFileSync(join(rec.workspace, 'out', 'result.txt'), 'utf8')).toBe('built\n');
    const ro = await exec({ command: 'echo x > /in/config', mounts: [{ source: 'in', target: '/in', read_only: true }], check: false }, rec.ctx);
    expect(ro.exit_code).not.toBe(0);
    expect(readFileSync(join(rec.workspace, 'in', 'config'), 'utf8')).toBe('from the host\n');
  });

  it('refuses a mount that leaves the workspace, naming it, before any container is made', async () => {
    const rec = context();
    mkdirSync(rec.workspace, { recursive: true });
    symlinkSync('/etc', join(rec.workspace, 'etc-link'));
    const port = countingEngine(engine);
    for (const [source, why] of [
      ['../outside', /outside the run's workspace/],
      ['/etc', /relative to the run's workspace/],
      ['etc-link', /through a symlink/],
      ['etc-link/new-dir', /through a symlink/],
    ] as const) {
      const err = await failure(exec({ command: 'true', mounts: [{ source: 'ok', target: '/ok' }, { source, target: '/x' }] }, { ...rec.ctx, containers: port }));
      expect(err).toBeInstanceOf(ActionInputError);
      expect(err.message).toContain(`mounts[1].source (${JSON.stringify(source)})`);
      expect(err.message).toMatch(why);
    }
    const noWorkspace = await failure(exec({ command: 'true', mounts: [{ source: 'ok', target: '/ok' }] }, { ...rec.ctx, containers: port, workspace: undefined }));
    expect(noWorkspace.message).toMatch(/no workspace/);
    expect(port.connects).toBe(0);
  });

  it('past timeout_ms the container is killed and removed: ACTION_TIMEOUT', async () => {
    const started = Date.now();
    const err = await failure(exec({ command: ['sleep', '30'], timeout_ms: 1500 }));
    expect(err).toBeInstanceOf(ActionTimeoutError);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await managed()).toEqual([]);
  });

  it('the run signal aborting removes the running container at once: ACTION_ABORTED', async () => {
    const abort = new AbortController();
    const rec = context({ signal: abort.signal });
    const done = failure(exec({ command: ['sleep', '30'] }, rec.ctx));
    await waitFor(async () => (await managed(`xyn.run_id=${rec.ctx.runId}`)).some((c) => c.State === 'running'), 20_000, 'the container to run');
    abort.abort();
    expect(await done).toBeInstanceOf(ActionAbortedError);
    expect(await managed()).toEqual([]);
  });

  it('keeps max_output_bytes of each stream and says truncated; the log artifact has it all', async () => {
    const rec = context();
    const out = await exec({ command: 'printf "%0200d" 0; printf "%0200d" 0 | tr 0 e >&2', max_output_bytes: 50 }, rec.ctx);
    expect(out).toMatchObject({ stdout: '0'.repeat(50), truncated: true });
    expect(out.stderr).toBe('e'.repeat(50));
    expect(rec.artifacts[0]?.text.replace(/e/g, '')).toBe('0'.repeat(200));
    expect(rec.artifacts[0]?.text.replace(/0/g, '')).toBe('e'.repeat(200));
  });

  it('a memory limit is enforced: a command passing memory_mb is killed and the error says so', async () => {
    const err = await failure(exec({ command: 'x=$(head -c 100000000 /dev/zero | tr "\\000" a); echo ${#x}', memory_mb: 16 }));
    // The engine may or may not report OOMKilled (podman 4.3 with cgroups v1 does not); the kill itself is what is checked.
    if (err.code === 'CONTAINER_OOM') expect(err.message).toMatch(/memory_mb \(16 MiB\)/);
    else expect(err).toMatchObject({ code: 'CONTAINER_EXIT_NONZERO', details: { exit_code: 137 }, message: expect.stringMatching(/SIGKILL.*memory_mb/) });
    expect(await managed()).toEqual([]);
  });

  it('an image the engine lacks, with pull: never, is CONTAINER_IMAGE_UNAVAILABLE (not retried)', async () => {
    const err = await failure(exec({ image: 'localhost/xyn-no-such-image:1', command: 'true', pull: 'never' }));
    expect(err).toMatchObject({ code: 'CONTAINER_IMAGE_UNAVAILABLE', details: { image: 'localhost/xyn-no-such-image:1' } });
    expect(isRetryable(err)).toBe(false);
  });

  it('an image that cannot be pulled is CONTAINER_IMAGE_UNAVAILABLE with the engine\'s reason', async () => {
    const err = await failure(exec({ image: 'localhost:1/xyn/nowhere:1', command: 'true', pull: 'if_missing' }));
    expect(err).toMatchObject({ code: 'CONTAINER_IMAGE_UNAVAILABLE', details: { image: 'localhost:1/xyn/nowhere:1' } });
    expect(err.message).toMatch(/could not pull it: \S/);
  });

  it('finds the engine at XYN_DOCKER_HOST, else DOCKER_HOST, else the standard socket; a malformed XYN_DOCKER_HOST stops the start', () => {
    expect(engineAddress(loadConfig({ env: { XYN_DOCKER_HOST: 'tcp://10.0.0.2:2375', DOCKER_HOST: 'unix:///d.sock' } }))).toBe('tcp://10.0.0.2:2375');
    expect(engineAddress(loadConfig({ env: { DOCKER_HOST: 'unix:///d.sock' } }))).toBe('unix:///d.sock');
    expect(engineAddress(loadConfig({ env: {} }))).toBe(DEFAULT_ENGINE_ADDRESS);
    expect(() => loadConfig({ env: { XYN_DOCKER_HOST: '/var/run/docker.sock' } })).toThrow(/XYN_DOCKER_HOST: expected unix:\/\/\/path/);
  });

  it('an engine that does not answer is CONTAINER_ENGINE_UNAVAILABLE, naming the address and how to set it', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const address = `unix://${join(dir.path, 'nothing.sock')}`;
    const err = await failure(exec({ command: 'true' }, { ...context().ctx, containers: new ContainerEngine(address) }));
    expect(err).toMatchObject({ code: 'CONTAINER_ENGINE_UNAVAILABLE', details: { address } });
    expect(err.message).toContain(address);
    expect(err.message).toMatch(/XYN_DOCKER_HOST/);
    const tcp = await failure(new ContainerEngine('ssh://host').connect());
    expect(tcp.message).toMatch(/only unix:\/\/ and tcp:\/\//);
  });

  it('refuses bad input naming the field', () => {
    expect(refusedField(containerExec, { image: 'x', command: [] })).toBe('command');
    expect(refusedField(containerExec, { image: 'x', command: 'y', pull: 'sometimes' })).toBe('pull');
    expect(refusedField(containerExec, { image: 'x', command: 'y', workdir: 'rel' })).toBe('workdir');
    expect(refusedField(containerExec, { image: 'x', command: 'y', memory_mb: 1 })).toBe('memory_mb');
    expect(refusedField(containerExec, { image: 'x', command: 'y', network: 'host' })).toBe('network');
  });
});

/** The workspace with `in/config` written on the host. */
function seeded(workspace: string): string {
  mkdirSync(join(workspace, 'in'), { recursive: true });
  writeFileSync(join(workspace, 'in', 'config'), 'from the host\n');
  return workspace;
}

describe('container.exec in a workflow run', () => {
  let n = 0;
  const blueprint = (plan: Record<string, unknown>[], extra: Record<string, unknown> = {}) => ({ id: `bp.c.t${++n}`, name: 'containers test', trigger: { event_type: `app.never.${n}` }, plan, ...extra });

  it('runs to its end: outputs to later steps, files in the run workspace', async () => {
    const w = await startNode({ XYN_DOCKER_HOST: podman.address });
    const bp = blueprint(
      [
        { kind: 'action_task', id: 'build', action: 'container.exec', with: { image: podman.image, pull: 'never', command: 'echo 42 | tee /work/answer', mounts: [{ source: '.', target: '/work' }] } },
        { kind: 'action_task', id: 'tell', action: 'events.emit', with: { name: 'app.built', data: { answer: '{{steps.build.outputs.stdout}}' } } },
      ],
      { outputs: [{ name: 'code', value: '{{steps.build.outputs.exit_code}}' }] },
    );
    await w.promote(bp);
    const run = await w.runs.create({ blueprint_id: bp.id, actor: 'test', trigger: { kind: 'manual' } });
    const ended = await w.runs.ended(run.run_id);
    expect(ended.status).toBe('completed');
    expect(ended.outputs).toEqual({ code: 0 });
    expect(w.runs.step(run.run_id, 'build').outputs).toMatchObject({ exit_code: 0, stdout: '42\n', stderr: '' });
    expect(readFileSync(join(w.dir, 'workspaces', run.run_id, 'answer'), 'utf8')).toBe('42\n');
    expect(await managed()).toEqual([]);
  });

  it('a cancel while the container runs removes it', async () => {
    const w = await startNode({ XYN_DOCKER_HOST: podman.address });
    const bp = blueprint([{ kind: 'action_task', id: 'wait', action: 'container.exec', with: { image: podman.image, pull: 'never', command: ['sleep', '60'] } }]);
    await w.promote(bp);
    const run = await w.runs.create({ blueprint_id: bp.id, actor: 'test', trigger: { kind: 'manual' } });
    await waitFor(async () => (await managed(`xyn.run_id=${run.run_id}`)).some((c) => c.State === 'running'), 20_000, 'the step container to run');
    await w.runs.cancel(run.run_id, 'test', 'not needed');
    expect((await w.runs.ended(run.run_id)).status).toBe('cancelled');
    await waitFor(async () => (await managed(`xyn.run_id=${run.run_id}`)).length === 0, 15_000, 'the container to be removed');
  });
});
