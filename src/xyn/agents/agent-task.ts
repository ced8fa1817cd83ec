/**
 * An agent_task step's work as an action the step runner runs like any other
 * (its timeout, retries, attempts recorded): the prompt, templates already
 * filled in, sent to the provider routing picks (routing.ts); for `output:
 * json`, the answer checked against the step's schema, with one repair round
 * (the answer sent back with what is wrong, asking for corrected JSON only)
 * before the step fails AGENT_OUTPUT_INVALID.
 *
 * Idempotent: a model call changes nothing anywhere, so a step cut short by a
 * restart, or failing on 5xx or time-outs from every provider, is simply
 * asked again (costing tokens again, which its footprints show).
 *
 *   const agent = agentTask(agentSettings(kernel.config));
 *   const out = await agent.execute({ provider: 'openai', model: 'gpt-4.1', prompt: 'Summarise …', output: 'text' }, ctx);
 */
import { z } from 'zod';
import type { Action, ActionContext } from '../actions/action.ts';
import { AgentCalls } from './agent-calls.ts';
import { anthropicClient } from './anthropic.ts';
import { AgentOutputInvalidError } from './errors.ts';
import { answerChecker } from './json-answer.ts';
import { openaiClient } from './openai.ts';
import { agentOutput, type AgentOutput } from './outputs.ts';
import { PROVIDERS, type ModelMessage, type Provider, type ProviderClient } from './provider.ts';
import { ask, targetsFor, type RouteDeps } from './routing.ts';
import type { AgentSettings } from './settings.ts';

/** An agent_task step's fields with its templates filled in. */
export const agentInput = z.strictObject({
  provider: z.enum(PROVIDERS),
  model: z.string().min(1),
  prompt: z.string().min(1, 'is empty once its templates are filled in'),
  system: z.string().optional(),
  max_tokens: z.int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  output: z.enum(['text', 'json']),
  schema: z.record(z.string(), z.unknown()).optional(),
});

export type AgentInput = z.infer<typeof agentInput>;

const CLIENTS: Record<Provider, ProviderClient> = { openai: openaiClient, anthropic: anthropicClient };

/** The agent_task action of a node with these settings. */
export function agentTask(settings: AgentSettings): Action<AgentInput, AgentOutput> {
  return {
    name: 'agent_task',
    input: agentInput,
    output: agentOutput,
    idempotent: true,
    async execute(input, ctx) {
      const calls = new AgentCalls(ctx);
      try {
        return await answer(input, ctx, calls, settings);
      } finally {
        calls.recordFootprints();
      }
    },
  };
}

async function answer(input: AgentInput, ctx: ActionContext, calls: AgentCalls, settings: AgentSettings): Promise<AgentOutput> {
  // A schema this node cannot check is found before any tokens are spent.
  const check = input.output === 'json' ? answerChecker(input.schema) : undefined;
  const deps: RouteDeps = { settings, clients: CLIENTS, calls, secrets: ctx.secrets, signal: ctx.signal };
  const params = { ...(input.system !== undefined ? { system: input.system } : {}), max_tokens: input.max_tokens, temperature: input.temperature };
  const question: ModelMessage = { role: 'user', content: input.prompt };
  const targets = targetsFor(input, settings);
  let { answer: reply, target } = await ask(targets, { ...params, messages: [question] }, 'answer', deps);
  const outputs = () => ({ text: reply.text, provider: target.provider, model: reply.model, usage: calls.totals() });
  if (!check) return { ...outputs(), json: null };

  let checked = check(reply.text);
  if (!checked.ok) {
    calls.log('warn', 'the answer is not valid JSON for the schema: asking once for a repair', { errors: checked.errors });
    const repair: ModelMessage[] = [
      question,
      { role: 'assistant', content: reply.text },
      { role: 'user', content: `That answer is not valid:\n${checked.errors.map((e) => `- ${e}`).join('\n')}\nReply with the corrected JSON only, nothing else.` },
    ];
    // The provider that answered is asked to mend its answer; the other one still stands behind it.
    ({ answer: reply, target } = await ask([target, ...targets.filter((t) => t.provider !== target.provider)], { ...params, messages: repair }, 'repair', deps));
    checked = check(reply.text);
    if (!checked.ok) throw new AgentOutputInvalidError(checked.errors);
  }
  return { ...outputs(), json: checked.value };
}
