/**
 * Anthropic's messages through its official SDK, streamed: the text is
 * assembled from `content_block_delta` text deltas, input tokens read from
 * `message_start`, output tokens and the stop reason from `message_delta`.
 * The SDK's own retries are off — the router decides what a failure leads
 * to, and records each call.
 */
import Anthropic from '@anthropic-ai/sdk';
import { callFailure, type ModelAnswer, type ModelRequest, type ProviderAccess, type ProviderClient } from './provider.ts';

/** Anthropic requires max_tokens; a step that gives none gets this. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

export const anthropicClient: ProviderClient = {
  async complete(request: ModelRequest, access: ProviderAccess, signal: AbortSignal): Promise<ModelAnswer> {
    // A key or base URL left out is the SDK's to find (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL).
    const client = new Anthropic({ ...(access.apiKey ? { apiKey: access.apiKey } : {}), ...(access.baseURL ? { baseURL: access.baseURL } : {}), maxRetries: 0 });
    try {
      const stream = await client.messages.create(
        {
          model: request.model,
          max_tokens: request.max_tokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
          messages: request.messages,
          stream: true,
          ...(request.system ? { system: request.system } : {}),
          ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
        },
        { signal },
      );
      const answer: ModelAnswer = { text: '', model: request.model, finish_reason: null, usage: { tokens_in: 0, tokens_out: 0 } };
      for await (const event of stream) {
        if (event.type === 'message_start') {
          answer.model = event.message.model;
          answer.usage.tokens_in = event.message.usage.input_tokens;
        } else if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
          answer.text += event.delta.text;
        } else if (event.type === 'message_delta') {
          answer.usage.tokens_out = event.usage.output_tokens;
          answer.finish_reason = event.delta.stop_reason;
        }
      }
      // The SDK ends a stream cut by the signal as if it were done: what came so far is no answer.
      signal.throwIfAborted();
      return answer;
    } catch (err) {
      throw callFailure(err, signal);
    }
  },
};
