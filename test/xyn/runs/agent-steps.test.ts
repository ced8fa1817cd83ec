/**
 * agent_task steps in real workflow runs on a node, their providers local
 * servers speaking OpenAI's and Anthropic's wire protocols: templated
 * prompts, outputs read by later steps, fallback, the step's retries when
 * every provider is down, invalid JSON, cancel mid-stream, and the SDKs'
 * own environment variables.
 */
import { describe, expect, it } from 'vitest';
import { llmServersPerFile } from '../../helpers/llm-servers.ts';
import { waitFor } from '../../kernel/helpers.ts';
import { workflowNodes, type WorkflowNode } from './helpers.ts';

const start = workflowNodes();
const servers = llmServersPerFile();
let node: WorkflowNode | undefined;

/** The node settings that point at the local servers. */
const providerEnv = () => ({ OPENAI_API_KEY: 'sk-openai-run', OPENAI_BASE_URL: servers.openai.baseURL, ANTHROPIC_API_KEY: 'sk-ant-run', ANTHROPIC_BASE_URL: servers.anthropic.baseURL, XYN_ANTHROPIC_MODEL: 'claude-fallback' });

/** One node for the file, made on first use. */
async function providersNode(): Promise<WorkflowNode> {
  node ??= await start(providerEnv());
  return node;
}

let n = 0;
async function runOf(w: WorkflowNode, plan: Record<string, unknown>[], extra: Record<string, unknown> = {}, inputs: Record<string, unknown> = {}) {
  const bp = { id: `bp.agent.t${++n}`, name: 'agent steps test', trigger: { event_type: `app.never.${n}` }, inputs: [{ name: 'host', required: false, default: 'db1' }], plan, ...extra };
  await w.promote(bp);
  return w.runs.create({ blueprint_id: bp.id, inputs, actor: 'test', trigger: { kind: 'manual' } });
}

const askStep = (over: Record<string, unknown> = {}) => ({ kind: 'agent_task', id: 'ask', provider: 'openai', model: 'gpt-run', prompt_template: 'Is {{inputs.host}} healthy?', ...over });

describe('agent_task in a run', () => {
  it('sends the templated prompt; its outputs feed later steps and the run', async () => {
    servers.openai.script({ text: 'yes, healthy', usage: { input: 30, output: 3 } });
    const w = await providersNode();
    const run = await runOf(w, [askStep({ system: 'You check {{inputs.host}}.' }), { kind: 'transform', id: 'say', outputs: { line: 'answer: {{steps.ask.outputs.text}}' } }], {
      outputs: [
        { name: 'line', value: '{{steps.say.outputs.line}}' },
        { name: 'who', value: '{{steps.ask.outputs.provider}}' },
        { name: 'tokens', value: '{{steps.ask.outputs.usage.tokens_in}}' },
      ],
    }, { host: 'web7' });
    const ended = await w.runs.ended(run.run_id);
    expect(ended.status).toBe('completed');
    expect(ended.outputs).toEqual({ line: 'answer: yes, healthy', who: 'openai', tokens: 30 });
    expect(servers.openai.requests[0]?.body.messages).toEqual([
      { role: 'system', content: 'You check web7.' },
      { role: 'user', content: 'Is web7 healthy?' },
    ]);
    expect(w.runs.step(run.run_id, 'ask')).toMatchObject({ status: 'completed', attempts: 1, inputs: { provider: 'openai', model: 'gpt-run', prompt: 'Is web7 healthy?' }, outputs: { provider: 'openai', model: 'gpt-run', json: null } });
  });

  it('openai answering 500 falls back to anthropic: the step says anthropic answered', async () => {
    servers.openai.script({ status: 500 });
    servers.anthropic.script({ text: 'fallback answer' });
    const w = await providersNode();
    const run = await runOf(w, [askStep()]);
    const ended = await w.runs.ended(run.run_id);
    expect(ended.status).toBe('completed');
    expect(w.runs.step(run.run_id, 'ask').outputs).toMatchObject({ text: 'fallback answer', provider: 'anthropic', model: 'claude-fallback' });
  });

  it('both providers down: the step is retried as its retries allow, then fails naming both reasons', async () => {
    servers.openai.script({ status: 503, message: 'openai is down' }, { status: 503, message: 'openai is down' });
    servers.anthropic.script({ status: 500, message: 'anthropic is down' }, { status: 500, message: 'anthropic is down' });
    const w = await providersNode();
    const run = await runOf(w, [askStep({ retries: 1, backoff: '1ms' })]);
    const ended = await w.runs.ended(run.run_id);
    expect(ended.status).toBe('failed');
    expect(ended.error).toMatchObject({ code: 'AGENT_UNAVAILABLE', step_id: 'ask', message: expect.stringMatching(/openai \(gpt-run\): 503.*openai is down.*anthropic \(claude-fallback\): 500.*anthropic is down/) });
    expect(w.runs.step(run.run_id, 'ask').attempts).toBe(2);
    expect([servers.openai.requests.length, servers.anthropic.requests.length]).toEqual([2, 2]);
  });

  it('a JSON answer invalid twice fails the run AGENT_OUTPUT_INVALID; a valid one is the json output', async () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
    servers.openai.script({ text: 'maybe' }, { text: '{"ok": "perhaps"}' }, { text: '{"ok": true}' });
    const w = await providersNode();
    const bad = await runOf(w, [askStep({ output: 'json', schema, retries: 2, backoff: '1ms' })]);
    const failed = await w.runs.ended(bad.run_id);
    expect(failed.error).toMatchObject({ code: 'AGENT_OUTPUT_INVALID', step_id: 'ask', details: { errors: [expect.stringMatching(/^answer\.ok: /)] } });
    // Not retried: the same question gets the same kind of answer.
    expect(w.runs.step(bad.run_id, 'ask').attempts).toBe(1);
    const good = await runOf(w, [askStep({ output: 'json', schema })], { outputs: [{ name: 'ok', value: '{{steps.ask.outputs.json.ok}}' }] });
    expect(await w.runs.ended(good.run_id)).toMatchObject({ status: 'completed', outputs: { ok: true } });
  });

  it('cancel mid-stream aborts the request; the run ends cancelled', async () => {
    servers.anthropic.script({ hang: 'Let me think' });
    const w = await providersNode();
    const run = await runOf(w, [askStep({ provider: 'anthropic', model: 'claude-run' })]);
    await waitFor(() => servers.anthropic.requests.length === 1, 10_000, 'the model request');
    const cancelled = await w.runs.cancel(run.run_id, 'ana', 'too slow');
    expect(cancelled).toMatchObject({ status: 'cancelled', error: { code: 'RUN_CANCELLED' } });
    await waitFor(() => servers.anthropic.requests[0]?.aborted === true, 5_000, 'the request to be dropped');
    expect(servers.openai.requests).toHaveLength(0);
  });
});

describe('a node stopped mid-call', () => {
  it('asks again at the next start (a model call is safe to repeat), and the run completes', async () => {
    servers.openai.script({ hang: 'Halfway' }, { text: 'asked again' });
    const w = await start(providerEnv());
    const run = await runOf(w, [askStep()]);
    await waitFor(() => servers.openai.requests.length === 1, 10_000, 'the model request');
    await w.stop();
    await waitFor(() => servers.openai.requests[0]?.aborted === true, 5_000, 'the request dropped by the stop');
    const again = await start(providerEnv(), { dir: w.dir });
    const ended = await again.runs.ended(run.run_id);
    expect(ended.status).toBe('completed');
    expect(again.runs.step(run.run_id, 'ask')).toMatchObject({ attempts: 2, outputs: { text: 'asked again' } });
  });
});

describe('keys from the SDK environment', () => {
  it('OPENAI_BASE_URL and OPENAI_API_KEY in the process environment are used when the node configures neither', async () => {
    const saved = { url: process.env.OPENAI_BASE_URL, key: process.env.OPENAI_API_KEY };
    process.env.OPENAI_BASE_URL = servers.openai.baseURL;
    process.env.OPENAI_API_KEY = 'sk-from-process-env';
    try {
      servers.openai.script({ text: 'found by the SDK' });
      // The node's own config has no provider settings: only the SDK's reading of its variables can find the server.
      const w = await start();
      const run = await runOf(w, [askStep()]);
      expect(await w.runs.ended(run.run_id)).toMatchObject({ status: 'completed' });
      expect(servers.openai.requests[0]?.headers.authorization).toBe('Bearer sk-from-process-env');
    } finally {
      for (const [name, value] of [['OPENAI_BASE_URL', saved.url], ['OPENAI_API_KEY', saved.key]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('a provider with no key anywhere fails the step AGENT_PROVIDER_UNCONFIGURED, naming the variables', async () => {
    const saved = process.env.ANTHROPIC_API_KEY;
    delete process.env.ANTHROPIC_API_KEY;
    try {
      const w = await start();
      const run = await runOf(w, [askStep({ provider: 'anthropic', model: 'claude-run' })]);
      const ended = await w.runs.ended(run.run_id);
      expect(ended.error).toMatchObject({ code: 'AGENT_PROVIDER_UNCONFIGURED', step_id: 'ask', message: expect.stringMatching(/ANTHROPIC_API_KEY or XYN_ANTHROPIC_API_KEY_REF/) });
      expect(servers.anthropic.requests).toHaveLength(0);
    } finally {
      if (saved !== undefined) process.env.ANTHROPIC_API_KEY = saved;
    }
  });
});
