/**
 * The record of one agent_task attempt's model calls (seed 004 §8.2, §6.3):
 * each call's prompt and response kept as artifacts (kinds `prompt` and
 * `response`, JSON, secrets scrubbed), a line in the step's log for each
 * call, wait and fallback, and its tokens summed per provider and model —
 * given to the footprints once, when the attempt ends, one row per metric.
 */
import type { ActionContext } from '../actions/action.ts';
import type { ModelAnswer, ModelRequest, Provider } from './provider.ts';

/** Why a call was made: the step's question, or the one repair round of a JSON answer. */
export type CallPhase = 'answer' | 'repair';

interface Tally {
  provider: Provider;
  model: string;
  tokens_in: number;
  tokens_out: number;
  request_count: number;
}

export class AgentCalls {
  private count = 0;
  private readonly tallies = new Map<string, Tally>();

  constructor(private readonly ctx: ActionContext) {}

  /** Records a call's prompt before it is sent; answers the call's number within the attempt. */
  async sent(provider: Provider, request: ModelRequest, phase: CallPhase): Promise<number> {
    const call = ++this.count;
    const tally = this.tally(provider, request.model);
    tally.request_count++;
    this.log('info', `calling ${provider} ${request.model}`, { provider, model: request.model, call, phase });
    await this.keep('prompt', call, { provider, model: request.model, phase, system: request.system ?? null, messages: request.messages, max_tokens: request.max_tokens ?? null, temperature: request.temperature ?? null });
    return call;
  }

  /** Records what came back: an answer, or why none did. */
  async received(call: number, provider: Provider, request: ModelRequest, outcome: { answer: ModelAnswer } | { failure: string; status: number | null }): Promise<void> {
    if ('answer' in outcome) {
      const { answer } = outcome;
      const tally = this.tally(provider, request.model);
      tally.tokens_in += answer.usage.tokens_in;
      tally.tokens_out += answer.usage.tokens_out;
      this.log('info', `${provider} answered`, { provider, model: answer.model, call, tokens_in: answer.usage.tokens_in, tokens_out: answer.usage.tokens_out, finish_reason: answer.finish_reason });
      await this.keep('response', call, { provider, model: answer.model, attempt: call, text: answer.text, usage: answer.usage, finish_reason: answer.finish_reason });
    } else {
      this.log('warn', `${provider} failed: ${outcome.failure}`, { provider, model: request.model, call, status: outcome.status });
      await this.keep('response', call, { provider, model: request.model, attempt: call, error: outcome.failure, status: outcome.status });
    }
  }

  log(level: 'info' | 'warn', msg: string, fields: Record<string, unknown> = {}): void {
    this.ctx.stepLog?.write({ msg, level, ...fields });
  }

  /** Tokens and requests over every call so far. */
  totals(): { tokens_in: number; tokens_out: number; request_count: number } {
    const sum = { tokens_in: 0, tokens_out: 0, request_count: 0 };
    for (const t of this.tallies.values()) {
      sum.tokens_in += t.tokens_in;
      sum.tokens_out += t.tokens_out;
      sum.request_count += t.request_count;
    }
    return sum;
  }

  /** Gives the footprints their rows: per provider and model asked, tokens_in, tokens_out and request_count. */
  recordFootprints(): void {
    const { footprints } = this.ctx;
    if (!footprints) return;
    for (const t of this.tallies.values()) {
      const dims = { provider: t.provider, model: t.model };
      footprints.record({ metric: 'tokens_in', quantity: t.tokens_in, unit: 'tokens', dims });
      footprints.record({ metric: 'tokens_out', quantity: t.tokens_out, unit: 'tokens', dims });
      footprints.record({ metric: 'request_count', quantity: t.request_count, unit: 'count', dims });
    }
  }

  private tally(provider: Provider, model: string): Tally {
    const key = `${provider}\u0000${model}`;
    let tally = this.tallies.get(key);
    if (!tally) this.tallies.set(key, (tally = { provider, model, tokens_in: 0, tokens_out: 0, request_count: 0 }));
    return tally;
  }

  private async keep(kind: 'prompt' | 'response', call: number, content: Record<string, unknown>): Promise<void> {
    const { artifacts, secrets } = this.ctx;
    if (!artifacts) return;
    const body = JSON.stringify(secrets ? secrets.scrub(content) : content, null, 2);
    await artifacts.put({ name: `call-${call}.${kind}.json`, kind, content_type: 'application/json', body, metadata: { provider: content.provider, model: content.model, call } });
  }
}
