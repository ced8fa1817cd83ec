/**
 * ssh.run in real workflow runs on a node, against a real sshd: outputs
 * feeding a later step, the node's known_hosts and its pinning event,
 * `check`, cancel killing the remote command, and a step's `idempotent`
 * deciding retries and what a node stopped mid-command does at its next start.
 *
 * The node's secret store is another part's: until it is merged, runs are
 * given a Map-backed SecretsPort (test/helpers/map-secrets.ts) in place of
 * the engine's own `secrets`, for this file only.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionContext } from '../../../src/xyn/actions/index.ts';
import { RunEngine } from '../../../src/xyn/runs/run-engine.ts';
import { mapSecrets } from '../../helpers/map-secrets.ts';
import { processRuns, startSshd, type TestSshd } from '../../helpers/sshd.ts';
import { waitFor } from '../../kernel/helpers.ts';
import { workflowNodes, type WorkflowNode } from './helpers.ts';

const start = workflowNodes();
let sshd: TestSshd;
type ContextMaker = (...args: unknown[]) => ActionContext;
const engine = RunEngine.prototype as unknown as { actionContext: ContextMaker };
const ownContext = engine.actionContext;
beforeAll(async () => {
  sshd = await startSshd();
  const secrets = { 'deploy-key': sshd.privateKey, 'deploy-password': sshd.password };
  engine.actionContext = function (this: unknown, ...args: unknown[]) {
    return { ...ownContext.apply(this, args), secrets: mapSecrets(secrets) };
  };
}, 30_000);
afterAll(async () => {
  engine.actionContext = ownContext;
  await sshd?.stop();
});

let n = 0;
function sshStep(id: string, withFields: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { kind: 'action_task', id, action: 'ssh.run', with: { host: '{{inputs.host}}', port: '{{inputs.port}}', user: '{{inputs.user}}', private_key_ref: 'deploy-key', ...withFields }, ...extra };
}

async function runOf(w: WorkflowNode, plan: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  const id = `bp.ssh.t${++n}`;
  await w.promote({ id, name: 'ssh test', trigger: { event_type: `app.never.${n}` }, inputs: [{ name: 'host' }, { name: 'port' }, { name: 'user' }], plan, ...extra });
  return w.runs.create({ blueprint_id: id, inputs: { host: sshd.host, port: sshd.port, user: sshd.user }, actor: 'test', trigger: { kind: 'manual' } });
}

describe('ssh.run in a workflow run', () => {
  it("runs a command whose outputs a later step uses; pins the host key in the node's known_hosts with an event of the run", async () => {
    const w = await start();
    const run = await runOf(
      w,
      [
        sshStep('who', { cmd: 'whoami; echo warn >&2; exit 4', check: false }),
        { kind: 'transform', id: 'sum', outputs: { user: '{{steps.who.outputs.stdout}}', code: '{{steps.who.outputs.exit_code}}', err: '{{steps.who.outputs.stderr}}' } },
        sshStep('pw', { private_key_ref: undefined, password_ref: 'deploy-password', cmd: 'cat', stdin: 'via {{steps.sum.outputs.code}}' }),
      ],
      { outputs: [{ name: 'user', value: '{{steps.sum.outputs.user}}' }, { name: 'code', value: '{{steps.sum.outputs.code}}' }, { name: 'err', value: '{{steps.sum.outputs.err}}' }, { name: 'echoed', value: '{{steps.pw.outputs.stdout}}' }] },
    );
    const ended = await w.runs.ended(run.run_id);
    expect(ended.error).toBeNull();
    expect(ended.outputs).toEqual({ user: `${sshd.user}\n`, code: 4, err: 'warn\n', echoed: 'via 4' });
    // The steps' recorded inputs name the secrets; their values are nowhere in the records.
    expect(w.runs.step(run.run_id, 'pw').inputs).toMatchObject({ password_ref: 'deploy-password' });
    const records = JSON.stringify([w.runs.get(run.run_id), w.runs.steps(run.run_id)]);
    expect(records).not.toContain(sshd.password);
    expect(records).not.toContain(sshd.privateKey.split('\n')[1]);
    const pinned = w.node.kernel.bus.queryHistory({ topic: 'xyn.ssh.host_key_pinned' });
    expect(pinned).toHaveLength(1);
    expect(pinned[0]).toMatchObject({ run_id: run.run_id, step_id: 'who', data: { host: '127.0.0.1', port: sshd.port, fingerprint: sshd.hostFingerprint } });
    expect(readFileSync(join(w.dir, 'known_hosts'), 'utf8')).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 `));
  }, 30_000);

  it('fails the run on a non-zero exit by default (SSH_EXIT_NONZERO with the tail of stderr)', async () => {
    const w = await start();
    const run = await runOf(w, [sshStep('fix', { cmd: 'echo "no such unit app.service" >&2; exit 5' })]);
    const ended = await w.runs.ended(run.run_id);
    expect(ended.status).toBe('failed');
    expect(ended.error).toMatchObject({ code: 'SSH_EXIT_NONZERO', step_id: 'fix', details: { exit_code: 5, stderr_tail: 'no such unit app.service\n' } });
  }, 30_000);

  it('retries a failing command only when the step says idempotent: true', async () => {
    const w = await start();
    const flag = `/tmp/xyn-ssh-retry-${process.pid}-${Date.now()}`;
    const cmd = `if [ -e ${flag} ]; then echo second; else touch ${flag}; exit 1; fi`;
    try {
      const plain = await runOf(w, [sshStep('once', { cmd }, { retries: 2, backoff: '1ms' })]);
      const failed = await w.runs.ended(plain.run_id);
      expect(failed.error).toMatchObject({ code: 'SSH_EXIT_NONZERO', details: { not_retried: expect.stringContaining('idempotent: true') } });
      expect(w.runs.step(plain.run_id, 'once').attempts).toBe(1);
      rmSync(flag, { force: true });

      const safe = await runOf(w, [sshStep('again', { cmd }, { retries: 2, backoff: '1ms', idempotent: true })], { outputs: [{ name: 'out', value: '{{steps.again.outputs.stdout}}' }] });
      const done = await w.runs.ended(safe.run_id);
      expect(done.outputs).toEqual({ out: 'second\n' });
      expect(w.runs.step(safe.run_id, 'again')).toMatchObject({ status: 'completed', attempts: 2 });
    } finally {
      rmSync(flag, { force: true });
    }
  }, 30_000);

  it('cancelled mid-command: the run is cancelled and the remote command killed', async () => {
    const w = await start();
    const marker = `sleep 30.${process.pid}3`;
    const run = await runOf(w, [sshStep('long', { cmd: marker })]);
    await waitFor(() => processRuns(marker), 10_000, 'the remote sleep to start');
    await w.runs.cancel(run.run_id, 'ana', 'wrong host');
    const ended = await w.runs.ended(run.run_id);
    expect(ended.status).toBe('cancelled');
    await waitFor(async () => !(await processRuns(marker)), 5_000, 'the remote sleep to be killed');
  }, 30_000);

  it('a node stopped mid-command: at its next start the step runs again only if it says idempotent: true', async () => {
    const w = await start();
    const flag = `/tmp/xyn-ssh-rerun-${process.pid}-${Date.now()}`;
    const markerA = `sleep 30.${process.pid}4`;
    const markerB = `sleep 30.${process.pid}5`;
    try {
      const plain = await runOf(w, [sshStep('deploy', { cmd: markerA })]);
      const safe = await runOf(w, [sshStep('probe', { cmd: `if [ -e ${flag} ]; then echo resumed; else touch ${flag}; ${markerB}; fi` }, { idempotent: true })], { outputs: [{ name: 'out', value: '{{steps.probe.outputs.stdout}}' }] });
      await waitFor(async () => (await processRuns(markerA)) && (await processRuns(markerB)), 10_000, 'both remote commands to start');
      await w.stop();
      // The stop cut the connections: neither command goes on unwatched.
      await waitFor(async () => !(await processRuns(markerA)) && !(await processRuns(markerB)), 5_000, 'the remote commands to be killed');

      const again = await start({}, { dir: w.dir });
      const failed = await again.runs.ended(plain.run_id);
      expect(failed.error).toMatchObject({ code: 'STEP_NOT_RERUNNABLE', step_id: 'deploy' });
      expect(failed.error?.message).toContain('idempotent: true');
      const done = await again.runs.ended(safe.run_id);
      expect(done.status).toBe('completed');
      expect(done.outputs).toEqual({ out: 'resumed\n' });
      expect(again.runs.step(safe.run_id, 'probe').attempts).toBe(2);
    } finally {
      rmSync(flag, { force: true });
    }
  }, 60_000);

  it("refuses a step whose idempotent is not a boolean, at validation", async () => {
    const w = await start();
    await expect(runOf(w, [sshStep('x', { cmd: 'true' }, { idempotent: 'yes' })])).rejects.toThrow(/plan\[0\]\.idempotent/);
  });
});
