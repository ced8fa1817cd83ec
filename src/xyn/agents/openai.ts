/**
 * OpenAI's chat completions through its official SDK, streamed: the text is
 * assembled from the chunks' deltas, the usage read from the last chunk
 * (asked for with `stream_options.include_usage`). The SDK's own retries are
 * off — the router decides what a failure leads to, and records each call.
 */
import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { callFailure, type ModelAnswer, type ModelRequest, type ProviderAccess, type ProviderClient } from './provider.ts';

export const openaiClient: ProviderClient = {
  async complete(request: ModelRequest, access: ProviderAccess, signal: AbortSignal): Promise<ModelAnswer> {
    // A key or base URL left out is the SDK's to find (OPENAI_API_KEY, OPENAI_BASE_URL).
    const client = new OpenAI({ ...(access.apiKey ? { apiKey: access.apiKey } : {}), ...(access.baseURL ? { baseURL: access.baseURL } : {}), maxRetries: 0 });
    const messages: ChatCompletionMessageParam[] = [...(request.system ? [{ role: 'system' as const, content: request.system }] : []), ...request.messages];
    try {
      const stream = await client.chat.completions.create(
        {
          model: request.model,
          messages,
          stream: true,
          stream_options: { include_usage: true },
          ...(request.max_tokens !== undefined ? { max_completion_tokens: request.max_tokens } : {}),
          ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
        },
        { signal },
      );
      const answer: ModelAnswer = { text: '', model: request.model, finish_reason: null, usage: { tokens_in: 0, tokens_out: 0 } };
      for await (const chunk of stream) {
        if (chunk.model) answer.model = chunk.model;
        const choice = chunk.choices[0];
        answer.text += choice?.delta?.content ?? '';
        if (choice?.finish_reason) answer.finish_reason = choice.finish_reason;
        if (chunk.usage) answer.usage = { tokens_in: chunk.usage.prompt_tokens, tokens_out: chunk.usage.completion_tokens };
      }
      // The SDK ends a stream cut by the signal as if it were done: what came so far is no answer.
      signal.throwIfAborted();
      return answer;
    } catch (err) {
      throw callFailure(err, signal);
    }
  },
};
