/**
 * Issue 15's acceptance: the seed's own example (seed 004 §7.2) end to end on
 * a real `xyn serve` (a child process), each counterpart real and on this
 * machine: a `checkmk.alert` event → an agent_task analyses it (a local
 * server speaking OpenAI's wire protocol, through the openai SDK) → a gate,
 * approved → ssh.run applies the fix on Debian's sshd → container.exec checks
 * it in a podman container → an agent_task summarises (Anthropic's protocol,
 * through @anthropic-ai/sdk) → http.call reports to a local HTTP server.
 *
 * The run completes with artifacts for every prompt, answer and step log,
 * footprints at every capture point, and none of the four secrets it used
 * anywhere: not in the data dir's bytes, the node's output, or any API answer.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { admiralToken, startServe, type Serving } from '../../helpers/cli.ts';
import { llmServer, type LlmServer } from '../../helpers/llm-servers.ts';
import { BUSYBOX_IMAGE, startPodman, type TestPodman } from '../../helpers/podman.ts';
import { freePort } from '../../helpers/free-port.ts';
import { startSshd, type TestSshd } from '../../helpers/sshd.ts';
import { serve, type TestServer } from '../../helpers/test-server.ts';
import { waitFor } from '../../kernel/helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'xyn-reach-'));
const data = join(tmp, 'data');
/** The secrets the run uses, each unique to this test run, so finding one anywhere is a leak. */
const SECRETS = {
  openai: `sk-openai-${randomBytes(12).toString('hex')}`,
  anthropic: `sk-ant-${randomBytes(12).toString('hex')}`,
  report: `report-${randomBytes(12).toString('hex')}`,
  probe: `probe-${randomBytes(12).toString('hex')}`,
};

let node: Serving;
let token: string;
let openai: LlmServer;
let anthropic: LlmServer;
let sshd: TestSshd;
let podman: TestPodman;
let reporter: TestServer;
const reports: { authorization: string | undefined; body: unknown }[] = [];
/** Every API answer's text, to be searched for the secrets at the end. */
const answers: string[] = [];

beforeAll(async () => {
  [openai, anthropic, sshd, podman] = await Promise.all([llmServer('openai'), llmServer('anthropic'), startSshd(), startPodman()]);
  reporter = await serve((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      reports.push({ authorization: req.headers.authorization, body: JSON.parse(body) as unknown });
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"filed":true}');
    });
  });
  node = await startServe(data, 0, {
    OPENAI_BASE_URL: openai.baseURL,
    ANTHROPIC_BASE_URL: anthropic.baseURL,
    XYN_OPENAI_API_KEY_REF: 'providers/openai',
    XYN_ANTHROPIC_API_KEY_REF: 'providers/anthropic',
    XYN_SECRET_PROVIDERS_OPENAI: SECRETS.openai,
    XYN_SECRET_PROVIDERS_ANTHROPIC: SECRETS.anthropic,
    XYN_SECRET_DEPLOY_KEY: sshd.privateKey,
    XYN_SECRET_REPORT_TOKEN: SECRETS.report,
    XYN_SECRET_PROBE_TOKEN: SECRETS.probe,
    XYN_DOCKER_HOST: podman.address,
  });
  token = admiralToken(node);
}, 180_000);

afterAll(async () => {
  if (node?.child.exitCode === null) await node.stop();
  await Promise.allSettled([openai?.close(), anthropic?.close(), reporter?.close(), sshd?.stop(), podman?.stop()]);
  rmSync(tmp, { recursive: true, force: true });
}, 120_000);

async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${node.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  answers.push(text);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

const blueprint = () => ({
  id: 'bp.checkmk.auto_remediate',
  name: 'Checkmk Alert Auto-Remediation',
  trigger: { event_type: 'checkmk.alert' },
  inputs: [{ name: 'host' }, { name: 'service' }],
  plan: [
    {
      kind: 'agent_task',
      id: 'analyze',
      provider: 'openai',
      model: 'gpt-test',
      system: 'You are an operator. Answer with JSON only.',
      prompt_template: 'Analyze the alert for {{inputs.service}} on {{inputs.host}} and suggest one remediation command.',
      output: 'json',
      schema: { type: 'object', properties: { command: { type: 'string' }, reason: { type: 'string' } }, required: ['command', 'reason'] },
    },
    { kind: 'gate', id: 'approve', mode: 'manual' },
    {
      kind: 'action_task',
      id: 'run_fix',
      action: 'ssh.run',
      with: { host: '{{inputs.host}}', port: sshd.port, user: sshd.user, private_key_ref: 'deploy-key', cmd: '{{steps.analyze.outputs.json.command}}' },
    },
    {
      kind: 'action_task',
      id: 'check',
      action: 'container.exec',
      with: { image: BUSYBOX_IMAGE, pull: 'never', command: 'echo "probe $PROBE_TOKEN saw: {{steps.run_fix.outputs.stdout}}"', env_refs: { PROBE_TOKEN: 'probe-token' } },
    },
    {
      kind: 'agent_task',
      id: 'summarize',
      provider: 'anthropic',
      model: 'claude-test',
      prompt_template: 'Summarise for the on-call: the fix printed {{steps.run_fix.outputs.stdout}}; the check printed {{steps.check.outputs.stdout}}',
    },
    {
      kind: 'action_task',
      id: 'report',
      action: 'http.call',
      with: { method: 'POST', url: `${reporter.url}/incidents`, auth: { bearer_ref: 'report-token' }, body: { host: '{{inputs.host}}', summary: '{{steps.summarize.outputs.text}}' } },
    },
  ],
  outputs: [{ name: 'summary', value: '{{steps.summarize.outputs.text}}' }],
});

type Run = { run_id: string; status: string; waiting_on: string | null; outputs: Record<string, unknown> | null; error: unknown };
type Step = { step_id: string; status: string; logs_artifact_id: string | null; outputs: Record<string, unknown> | null };
type Artifact = { artifact_id: string; kind: string; name: string; step_id: string | null; byte_length: number };
type Footprint = { step_id: string | null; source_kind: string; source_ref: string; metric: string; quantity: number; dims: Record<string, unknown> };

/** Every file under `dir`, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('the seed example, end to end (issue 15)', () => {
  it('alert → analysis → approval → ssh fix → container check → summary → report: completed, recorded, and no secret anywhere', async () => {
    openai.script({ text: '```json\n{"command": "echo nginx restarted on $(hostname)", "reason": "the worker pool is stuck"}\n```', usage: { input: 120, output: 30 } });
    anthropic.script({ text: 'nginx was restarted and the probe saw it come back.', usage: { input: 200, output: 12 } });

    const saved = await api('POST', '/api/v1/drafts', { text: stringify(blueprint()) });
    const report = await api<{ report: { is_valid: boolean; issues: unknown[] } }>('POST', `/api/v1/drafts/${saved.draft_id as string}/validate`, {});
    expect(report.report.issues).toEqual([]);
    await api('POST', `/api/v1/drafts/${saved.draft_id as string}/promote`, { revision: saved.revision });

    await api('POST', '/api/v1/events', { event_name: 'checkmk.alert', data: { host: '127.0.0.1', service: 'nginx', state: 'CRIT' } });
    let run: Run | undefined;
    await waitFor(async () => {
      const page = await api<{ items: Run[] }>('GET', '/api/v1/runs?blueprint=bp.checkmk.auto_remediate');
      run = page.items[0];
      return run?.waiting_on === 'approve';
    }, 60_000, 'the run to wait at its gate');
    const runId = (run as Run).run_id;

    await api('POST', `/api/v1/runs/${runId}/steps/approve/approve`, { reason: 'looks right' });
    await waitFor(async () => {
      run = await api<Run>('GET', `/api/v1/runs/${runId}`);
      return run.status !== 'running' && run.status !== 'created';
    }, 120_000, 'the run to end');
    expect(run, JSON.stringify(run)).toMatchObject({ status: 'completed', outputs: { summary: 'nginx was restarted and the probe saw it come back.' } });

    // Each counterpart was really reached, with what the steps before it gave.
    expect(openai.requests).toHaveLength(1);
    expect(JSON.stringify(openai.requests[0]?.body)).toContain('Analyze the alert for nginx on 127.0.0.1');
    expect(anthropic.requests).toHaveLength(1);
    const steps = (await api<{ items: Step[] }>('GET', `/api/v1/runs/${runId}/steps`)).items;
    const byId = new Map(steps.map((s) => [s.step_id, s]));
    expect(steps.map((s) => [s.step_id, s.status])).toEqual([
      ['analyze', 'completed'],
      ['approve', 'completed'],
      ['run_fix', 'completed'],
      ['check', 'completed'],
      ['summarize', 'completed'],
      ['report', 'completed'],
    ]);
    expect(byId.get('run_fix')?.outputs).toMatchObject({ exit_code: 0, stdout: expect.stringMatching(/^nginx restarted on \S+\n$/) });
    expect(byId.get('check')?.outputs?.stdout).toMatch(/^probe \[redacted\] saw: nginx restarted on \S+/);
    expect(reports).toEqual([{ authorization: `Bearer ${SECRETS.report}`, body: { host: '127.0.0.1', summary: 'nginx was restarted and the probe saw it come back.' } }]);

    // Artifacts: a prompt and a response per model call, the ssh and container output, and a log for every step that ran.
    const artifacts = (await api<{ items: Artifact[] }>('GET', `/api/v1/artifacts?run_id=${runId}&limit=100`)).items;
    const kinds = (step: string) => artifacts.filter((a) => a.step_id === step).map((a) => a.kind).sort();
    expect(kinds('analyze')).toEqual(['log', 'prompt', 'response']);
    expect(kinds('summarize')).toEqual(['log', 'prompt', 'response']);
    expect(kinds('run_fix')).toEqual(['log', 'log']);
    expect(kinds('check')).toEqual(['log', 'log']);
    for (const s of steps) expect(s.logs_artifact_id, s.step_id).toEqual(expect.any(String));
    const prompt = artifacts.find((a) => a.step_id === 'analyze' && a.kind === 'prompt') as Artifact;
    const promptText = await (await fetch(`${node.url}/api/v1/artifacts/${prompt.artifact_id}/download`, { headers: { authorization: `Bearer ${token}` } })).text();
    answers.push(promptText);
    expect(promptText).toContain('Analyze the alert for nginx');
    const log = await (await fetch(`${node.url}/api/v1/artifacts/${byId.get('run_fix')?.logs_artifact_id as string}/download`, { headers: { authorization: `Bearer ${token}` } })).text();
    answers.push(log);
    expect(log.trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(expect.arrayContaining(['step started', 'step completed']));

    // Footprints at every capture point of seed 004 §6.3.
    const footprints = await api<{ items: Footprint[] }>('GET', `/api/v1/runs/${runId}/footprints`);
    const rows = footprints.items;
    const has = (metric: string, where: Partial<Footprint> = {}) => rows.some((r) => r.metric === metric && Object.entries(where).every(([k, v]) => JSON.stringify(r[k as keyof Footprint]) === JSON.stringify(v)));
    expect(has('run.count', { quantity: 1 })).toBe(true);
    for (const s of steps) {
      expect(has('step.count', { step_id: s.step_id, source_kind: 'step' }), s.step_id).toBe(true);
      expect(has('wall_ms', { step_id: s.step_id, source_kind: 'step' }), s.step_id).toBe(true);
    }
    expect(has('tokens_in', { step_id: 'analyze', quantity: 120, dims: { provider: 'openai', model: 'gpt-test' } })).toBe(true);
    expect(has('tokens_out', { step_id: 'summarize', quantity: 12, dims: { provider: 'anthropic', model: 'claude-test' } })).toBe(true);
    expect(has('request_count', { step_id: 'summarize', quantity: 1 })).toBe(true);
    expect(rows.find((r) => r.step_id === 'run_fix' && r.metric === 'bytes_in')?.quantity).toBeGreaterThan(0);
    expect(has('wall_ms', { step_id: 'report', source_kind: 'action' })).toBe(true);
    expect(rows.some((r) => r.metric === 'artifact_bytes_written' && r.quantity > 0)).toBe(true);

    // No secret anywhere: every API answer read, the events and the audit trail, the node's output, every byte of the data dir.
    answers.push(JSON.stringify(await api('GET', '/api/genesis/events?limit=1000')));
    answers.push(JSON.stringify(await api('GET', `/api/v1/runs/${runId}/steps`)));
    for (const a of artifacts) answers.push(await (await fetch(`${node.url}/api/v1/artifacts/${a.artifact_id}/download`, { headers: { authorization: `Bearer ${token}` } })).text());
    const dataBytes = files(data).map((f) => readFileSync(f).toString('latin1'));
    const privateKeyBody = sshd.privateKey.split('\n')[1] as string;
    for (const secret of [...Object.values(SECRETS), privateKeyBody]) {
      for (const text of answers) expect(text.includes(secret), `an API answer holds ${secret}`).toBe(false);
      expect(node.logs().includes(secret) || node.stderr().includes(secret), `the node's output holds ${secret}`).toBe(false);
      for (const bytes of dataBytes) expect(bytes.includes(secret), `the data dir holds ${secret}`).toBe(false);
    }
  }, 240_000);

  it('the failure paths: sshd not there, a container exiting 1, a 429 then an answer, JSON invalid twice, a missing secret — each a clear step error, the run as on_failure says', async () => {
    openai.script({ status: 429, headers: { 'retry-after': '1' } }, { text: 'recovered after the wait' }, { text: 'not json' }, { text: 'still not json' });
    // A port nothing listens on: an sshd that is not there.
    const closedPort = await freePort();
    const bp = {
      id: 'bp.failure_paths',
      name: 'Failure paths',
      trigger: { event_type: 'failure.paths' },
      plan: [
        { kind: 'action_task', id: 'ssh_down', on_failure: 'continue', action: 'ssh.run', with: { host: '127.0.0.1', port: closedPort, user: sshd.user, private_key_ref: 'deploy-key', cmd: 'true' } },
        { kind: 'action_task', id: 'exits_1', on_failure: 'continue', action: 'container.exec', with: { image: BUSYBOX_IMAGE, pull: 'never', command: 'echo failing >&2; exit 1' } },
        { kind: 'agent_task', id: 'rate_limited', provider: 'openai', model: 'gpt-test', prompt_template: 'hello' },
        { kind: 'agent_task', id: 'bad_json', on_failure: 'continue', provider: 'openai', model: 'gpt-test', prompt_template: 'answer in JSON', output: 'json' },
        { kind: 'action_task', id: 'no_secret', on_failure: 'continue', action: 'http.call', with: { method: 'POST', url: `${reporter.url}/never`, auth: { bearer_ref: 'no-such-secret' }, body: {} } },
        { kind: 'transform', id: 'after', outputs: { rate_limited: '{{steps.rate_limited.outputs.text}}' } },
      ],
    };
    const saved = await api('POST', '/api/v1/drafts', { text: stringify(bp) });
    await api('POST', `/api/v1/drafts/${saved.draft_id as string}/validate`, {});
    await api('POST', `/api/v1/drafts/${saved.draft_id as string}/promote`, { revision: saved.revision });
    await api('POST', '/api/v1/events', { event_name: 'failure.paths', data: {} });
    let run: Run | undefined;
    await waitFor(async () => {
      run = (await api<{ items: Run[] }>('GET', '/api/v1/runs?blueprint=bp.failure_paths')).items[0];
      return run !== undefined && run.status !== 'running' && run.status !== 'created';
    }, 120_000, 'the run to end');
    expect(run?.status).toBe('completed');
    const steps = (await api<{ items: (Step & { error: { code: string; message: string } | null })[] }>('GET', `/api/v1/runs/${(run as Run).run_id}/steps`)).items;
    const outcome = Object.fromEntries(steps.map((s) => [s.step_id, [s.status, s.error?.code ?? null]]));
    expect(outcome).toEqual({
      ssh_down: ['failed', 'SSH_CONNECT_FAILED'],
      exits_1: ['failed', 'CONTAINER_EXIT_NONZERO'],
      rate_limited: ['completed', null],
      bad_json: ['failed', 'AGENT_OUTPUT_INVALID'],
      no_secret: ['failed', 'SECRET_NOT_FOUND'],
      after: ['completed', null],
    });
    const error = (id: string) => steps.find((s) => s.step_id === id)?.error?.message ?? '';
    expect(error('ssh_down')).toContain(String(closedPort));
    expect(error('exits_1')).toMatch(/exited with code 1; stderr ends: failing/);
    expect(error('no_secret')).toContain('XYN_SECRET_NO_SUCH_SECRET');
    // The 429 was waited out: the second request came at least the second it asked for after the first.
    const [limited, retried] = openai.requests.slice(-4);
    expect((retried?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(steps.find((s) => s.step_id === 'after')?.outputs).toEqual({ rate_limited: 'recovered after the wait' });
    // Nothing half-written: every step that ran has its log kept (a transform keeps none: its record is all it did).
    for (const s of steps) expect(s.logs_artifact_id, s.step_id).toEqual(s.step_id === 'after' ? null : expect.any(String));
  }, 240_000);
});
