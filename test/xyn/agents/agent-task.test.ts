/**
 * The agent_task action against local servers speaking OpenAI's and
 * Anthropic's wire protocols, through the real SDKs: streamed answers
 * assembled, JSON answers checked and repaired, 429s waited out, 5xx falling
 * back to the other provider, 4xx not, keys from config, secret refs or
 * nowhere. The run's ports (artifacts, footprints, step log, secrets) are
 * recorded here, as the run engine's would keep them.
 */
import { describe, expect, it } from 'vitest';
import { isRetryable } from '../../../src/core/errors.ts';
import { loadConfig } from '../../../src/kernel/config.ts';
import type { ActionContext, FootprintInput } from '../../../src/xyn/actions/action.ts';
import { agentSettings, agentTask, type AgentInput } from '../../../src/xyn/agents/index.ts';
import { DEFAULT_USAGE, llmServersPerFile } from '../../helpers/llm-servers.ts';
import { busOnLogPerTest, waitFor } from '../../kernel/helpers.ts';

const servers = llmServersPerFile();
const t = busOnLogPerTest();

/** The agent action of a node whose providers are the local servers, with `env` over that. */
function agent(env: Record<string, string> = {}) {
  const config = loadConfig({
    env: { OPENAI_API_KEY: 'sk-openai-test', OPENAI_BASE_URL: servers.openai.baseURL, ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: servers.anthropic.baseURL, XYN_ANTHROPIC_MODEL: 'claude-fallback', XYN_OPENAI_MODEL: 'gpt-fallback', ...env },
  });
  return agentTask(agentSettings(config));
}

interface Recorded {
  ctx: ActionContext;
  artifacts: { name: string; kind: string; content_type: string; body: string; metadata?: Record<string, unknown> }[];
  footprints: FootprintInput[];
  lines: Record<string, unknown>[];
}

/** A context whose ports record what the action gives them; `secrets` maps refs to values (scrubbed as a run's would be). */
function context(opts: { signal?: AbortSignal; secrets?: Record<string, string> } = {}): Recorded {
  const rec: Recorded = { artifacts: [], footprints: [], lines: [], ctx: undefined as unknown as ActionContext };
  const resolved: string[] = [];
  const scrub = <T>(value: T): T => JSON.parse(resolved.reduce((text, secret) => text.split(secret).join('[redacted]'), JSON.stringify(value))) as T;
  rec.ctx = {
    runId: 'run-1',
    stepId: 'ask',
    correlationId: 'c-1',
    signal: opts.signal ?? new AbortController().signal,
    bus: t.bus,
    artifacts: {
      put: async (a) => {
        rec.artifacts.push({ ...a, body: String(a.body) });
        return { artifact_id: `a${rec.artifacts.length}`, sha256: '', byte_length: String(a.body).length };
      },
    },
    footprints: { record: (f) => rec.footprints.push(f) },
    stepLog: { write: (e) => rec.lines.push(scrub(e)) },
    ...(opts.secrets
      ? {
          secrets: {
            resolve: async (ref: string) => {
              const value = opts.secrets?.[ref];
              if (value === undefined) throw new Error(`no secret ${ref}`);
              resolved.push(value);
              return value;
            },
            scrub,
          },
        }
      : {}),
  };
  return rec;
}

const ask = (over: Partial<AgentInput> = {}): AgentInput => ({ provider: 'openai', model: 'gpt-test', prompt: 'Say hello', output: 'text', ...over });
const bodies = (rec: Recorded, kind: string) => rec.artifacts.filter((a) => a.kind === kind).map((a) => JSON.parse(a.body) as Record<string, unknown>);

describe('answers', () => {
  it('openai: streams the answer through the SDK and records prompt, response, footprints and log lines', async () => {
    servers.openai.script({ text: 'Hello there, world', usage: { input: 21, output: 5 } });
    const rec = context();
    const out = await agent().execute(ask({ system: 'Be brief.', max_tokens: 50, temperature: 0.2 }), rec.ctx);
    expect(out).toEqual({ text: 'Hello there, world', json: null, provider: 'openai', model: 'gpt-test', usage: { tokens_in: 21, tokens_out: 5, request_count: 1 } });
    const [req] = servers.openai.requests;
    expect(req?.headers.authorization).toBe('Bearer sk-openai-test');
    expect(req?.body).toMatchObject({
      model: 'gpt-test',
      stream: true,
      stream_options: { include_usage: true },
      max_completion_tokens: 50,
      temperature: 0.2,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hello' },
      ],
    });
    expect(bodies(rec, 'prompt')).toEqual([expect.objectContaining({ provider: 'openai', model: 'gpt-test', system: 'Be brief.', max_tokens: 50, temperature: 0.2, messages: [{ role: 'user', content: 'Say hello' }] })]);
    expect(bodies(rec, 'response')).toEqual([{ provider: 'openai', model: 'gpt-test', attempt: 1, text: 'Hello there, world', usage: { tokens_in: 21, tokens_out: 5 }, finish_reason: 'stop' }]);
    expect(rec.artifacts.every((a) => a.content_type === 'application/json')).toBe(true);
    const dims = { provider: 'openai', model: 'gpt-test' };
    expect(rec.footprints).toEqual([
      { metric: 'tokens_in', quantity: 21, unit: 'tokens', dims },
      { metric: 'tokens_out', quantity: 5, unit: 'tokens', dims },
      { metric: 'request_count', quantity: 1, unit: 'count', dims },
    ]);
    expect(rec.lines.map((l) => l.msg)).toEqual(['calling openai gpt-test', 'openai answered']);
  });

  it('anthropic: messages streamed through its SDK, its key sent, max_tokens defaulted', async () => {
    servers.anthropic.script({ text: 'Bonjour from Claude', usage: { input: 9, output: 4 } });
    const rec = context();
    const out = await agent().execute(ask({ provider: 'anthropic', model: 'claude-test', system: 'French.' }), rec.ctx);
    expect(out).toMatchObject({ text: 'Bonjour from Claude', provider: 'anthropic', model: 'claude-test', usage: { tokens_in: 9, tokens_out: 4, request_count: 1 } });
    const [req] = servers.anthropic.requests;
    expect(req?.path).toBe('/v1/messages');
    // SDK versions send the key as x-api-key or as a bearer token.
    expect(req?.headers['x-api-key'] ?? req?.headers.authorization?.replace(/^Bearer /, '')).toBe('sk-ant-test');
    expect(req?.body).toMatchObject({ model: 'claude-test', stream: true, max_tokens: 4096, system: 'French.', messages: [{ role: 'user', content: 'Say hello' }] });
    expect(bodies(rec, 'response')[0]).toMatchObject({ finish_reason: 'end_turn' });
    expect(servers.openai.requests).toHaveLength(0);
  });
});

describe('output: json', () => {
  const schema = { type: 'object', properties: { host: { type: 'string' }, restart: { type: 'boolean' } }, required: ['host', 'restart'] };

  it('a valid answer (in a fence) is parsed into the json output', async () => {
    servers.openai.script({ text: '```json\n{"host": "db1", "restart": true}\n```' });
    const out = await agent().execute(ask({ output: 'json', schema }), context().ctx);
    expect(out.json).toEqual({ host: 'db1', restart: true });
  });

  it('an invalid answer is sent back once with what is wrong; the repaired one is taken, both calls counted', async () => {
    servers.openai.script({ text: '{"host": "db1"}' }, { text: '{"host": "db1", "restart": false}' });
    const rec = context();
    const out = await agent().execute(ask({ output: 'json', schema }), rec.ctx);
    expect(out.json).toEqual({ host: 'db1', restart: false });
    expect(out.usage).toEqual({ tokens_in: 2 * DEFAULT_USAGE.input, tokens_out: 2 * DEFAULT_USAGE.output, request_count: 2 });
    const repair = servers.openai.requests[1]?.body.messages as { role: string; content: string }[];
    expect(repair.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(repair[1]?.content).toBe('{"host": "db1"}');
    expect(repair[2]?.content).toMatch(/answer\.restart: .*corrected JSON only/s);
    expect(bodies(rec, 'prompt').map((p) => p.phase)).toEqual(['answer', 'repair']);
    // One row per metric: the two calls summed.
    expect(rec.footprints.map((f) => [f.metric, f.quantity])).toEqual([
      ['tokens_in', 2 * DEFAULT_USAGE.input],
      ['tokens_out', 2 * DEFAULT_USAGE.output],
      ['request_count', 2],
    ]);
  });

  it('invalid twice fails AGENT_OUTPUT_INVALID with the errors, not retryable', async () => {
    servers.openai.script({ text: 'I think the host is db1.' }, { text: '{"host": 7, "restart": true}' });
    const err = await agent()
      .execute(ask({ output: 'json', schema }), context().ctx)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AGENT_OUTPUT_INVALID', details: { errors: [expect.stringMatching(/^answer\.host: .*string/)] } });
    expect(isRetryable(err)).toBe(false);
    expect(servers.openai.requests).toHaveLength(2);
  });
});

describe('routing', () => {
  it('a 429 is waited out as retry-after asks, then asked again; each call recorded', async () => {
    servers.openai.script({ status: 429, headers: { 'retry-after': '1' }, message: 'slow down' }, { text: 'after the wait' });
    const rec = context();
    const out = await agent().execute(ask(), rec.ctx);
    expect(out).toMatchObject({ text: 'after the wait', provider: 'openai', usage: { request_count: 2 } });
    const [first, second] = servers.openai.requests;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(bodies(rec, 'response')[0]).toMatchObject({ attempt: 1, status: 429, error: expect.stringMatching(/slow down/) });
    expect(rec.lines).toContainEqual(expect.objectContaining({ msg: 'openai is rate limited: waiting 1000 ms as it asks', wait_ms: 1000 }));
    expect(servers.anthropic.requests).toHaveLength(0);
  });

  it('a 429 asking for longer than XYN_AGENT_MAX_RETRY_AFTER_MS is not waited: the other provider answers', async () => {
    servers.openai.script({ status: 429, headers: { 'retry-after': '30' } });
    servers.anthropic.script({ text: 'no wait' });
    const began = Date.now();
    const out = await agent({ XYN_AGENT_MAX_RETRY_AFTER_MS: '500' }).execute(ask(), context().ctx);
    expect(out).toMatchObject({ text: 'no wait', provider: 'anthropic' });
    expect(Date.now() - began).toBeLessThan(10_000);
  });

  it('a 500 falls back to the other provider with its configured model', async () => {
    servers.openai.script({ status: 500, message: 'boom' });
    servers.anthropic.script({ text: 'from the fallback' });
    const rec = context();
    const out = await agent().execute(ask(), rec.ctx);
    expect(out).toMatchObject({ text: 'from the fallback', provider: 'anthropic', model: 'claude-fallback' });
    expect(servers.anthropic.requests[0]?.body.model).toBe('claude-fallback');
    expect(rec.lines.map((l) => l.msg)).toEqual(['calling openai gpt-test', expect.stringMatching(/^openai failed: 500/), 'falling back to anthropic claude-fallback', 'calling anthropic claude-fallback', 'anthropic answered']);
    // Footprints by provider and model asked: the failed request counts, its tokens are none.
    expect(rec.footprints.filter((f) => f.metric === 'request_count').map((f) => f.dims)).toEqual([
      { provider: 'openai', model: 'gpt-test' },
      { provider: 'anthropic', model: 'claude-fallback' },
    ]);
  });

  it('both down: AGENT_UNAVAILABLE naming each reason, retryable by the step', async () => {
    servers.openai.script({ status: 502, message: 'bad gateway' });
    servers.anthropic.script({ status: 529, message: 'overloaded' });
    const err = await agent()
      .execute(ask(), context().ctx)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AGENT_UNAVAILABLE', message: expect.stringMatching(/openai \(gpt-test\): 502.*bad gateway.*anthropic \(claude-fallback\): 529.*overloaded/) });
    expect(isRetryable(err)).toBe(true);
  });

  it('a request past XYN_AGENT_REQUEST_TIMEOUT_MS (its stream stalled) counts as down', async () => {
    servers.openai.script({ hang: 'Once' });
    servers.anthropic.script({ text: 'in time' });
    const rec = context();
    const out = await agent({ XYN_AGENT_REQUEST_TIMEOUT_MS: '300' }).execute(ask(), rec.ctx);
    expect(out).toMatchObject({ text: 'in time', provider: 'anthropic' });
    await waitFor(() => servers.openai.requests[0]?.aborted === true, 5_000, 'the stalled request dropped');
    expect(bodies(rec, 'response')[0]).toMatchObject({ provider: 'openai', error: 'no complete answer within 300 ms (XYN_AGENT_REQUEST_TIMEOUT_MS)' });
  });

  it('a connection refused counts as down', async () => {
    servers.anthropic.script({ text: 'still here' });
    const out = await agent({ OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' }).execute(ask(), context().ctx);
    expect(out.provider).toBe('anthropic');
  });

  it('a 4xx other than 429 fails at once, without fallback', async () => {
    servers.openai.script({ status: 401, message: 'invalid api key' });
    const err = await agent()
      .execute(ask(), context().ctx)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AGENT_REQUEST_REFUSED', details: { provider: 'openai', model: 'gpt-test', status: 401 } });
    expect(isRetryable(err)).toBe(false);
    expect(servers.anthropic.requests).toHaveLength(0);
  });

  it('XYN_AGENT_PROVIDER and XYN_AGENT_MODEL override the blueprint', async () => {
    servers.anthropic.script({ text: 'overridden' }, { text: 'overridden again' });
    expect(await agent({ XYN_AGENT_PROVIDER: 'anthropic' }).execute(ask(), context().ctx)).toMatchObject({ provider: 'anthropic', model: 'claude-fallback' });
    expect(await agent({ XYN_AGENT_PROVIDER: 'anthropic', XYN_AGENT_MODEL: 'claude-chosen' }).execute(ask(), context().ctx)).toMatchObject({ provider: 'anthropic', model: 'claude-chosen' });
    expect(servers.openai.requests).toHaveLength(0);
  });

  it.each(['openai', 'anthropic'] as const)('%s: the signal aborts the request mid-stream, and what came is no answer', async (provider) => {
    const [server, other] = provider === 'openai' ? [servers.openai, servers.anthropic] : [servers.anthropic, servers.openai];
    server.script({ hang: 'Once upon' });
    const controller = new AbortController();
    const pending = agent().execute(ask({ provider }), context({ signal: controller.signal }).ctx);
    await waitFor(() => server.requests.length === 1, 5_000, 'the request');
    controller.abort();
    await expect(pending).rejects.toThrow(/abort/i);
    await waitFor(() => server.requests[0]?.aborted === true, 5_000, 'the server to see the request dropped');
    expect(other.requests).toHaveLength(0);
  });
});

describe('keys and settings', () => {
  it('a wrong agent setting stops the node naming it', () => {
    expect(() => loadConfig({ env: { XYN_AGENT_PROVIDER: 'gemini' } })).toThrow('XYN_AGENT_PROVIDER: expected "openai" or "anthropic", got "gemini"');
    expect(() => loadConfig({ env: { XYN_AGENT_RATE_LIMIT_RETRIES: '99' } })).toThrow(/XYN_AGENT_RATE_LIMIT_RETRIES: must be at most 10/);
  });

  it('no key anywhere: AGENT_PROVIDER_UNCONFIGURED naming the variables', async () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      const err = await agent({ OPENAI_API_KEY: '' })
        .execute(ask(), context().ctx)
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'AGENT_PROVIDER_UNCONFIGURED', message: 'openai is not configured: no API key (set OPENAI_API_KEY or XYN_OPENAI_API_KEY_REF)' });
      expect(servers.openai.requests).toHaveLength(0);
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });

  it('a key by secret ref is resolved through the run, and scrubbed from what is recorded', async () => {
    servers.openai.script({ text: 'the key was sk-from-vault, I saw it' });
    const rec = context({ secrets: { 'llm-key': 'sk-from-vault' } });
    await agent({ XYN_OPENAI_API_KEY_REF: 'llm-key' }).execute(ask({ prompt: 'Echo sk-from-vault' }), rec.ctx);
    expect(servers.openai.requests[0]?.headers.authorization).toBe('Bearer sk-from-vault');
    expect(rec.artifacts.length).toBe(2);
    for (const a of rec.artifacts) expect(a.body).not.toContain('sk-from-vault');
    expect(bodies(rec, 'response')[0]?.text).toBe('the key was [redacted], I saw it');
  });

  it('a secret ref on a node that resolves no secrets says so', async () => {
    const err = await agent({ XYN_OPENAI_API_KEY_REF: 'llm-key' })
      .execute(ask(), context().ctx)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AGENT_PROVIDER_UNCONFIGURED', message: expect.stringMatching(/XYN_OPENAI_API_KEY_REF is set but this node resolves no secrets/) });
  });
});
