/**
 * Local stand-ins for the model providers, speaking their wire protocols so
 * the real SDKs can be driven against them: OpenAI's `POST
 * /v1/chat/completions` and Anthropic's `POST /v1/messages`, as the SSE streams
 * the SDKs read (xyn's clients always stream). A test scripts the answers in order
 * (a text, a status with its headers, a stream that stops half-way and
 * hangs) and reads back the requests received, with when they came and
 * whether their connection was closed by the client.
 *
 *   const openai = await llmServer('openai');
 *   openai.script({ status: 429, headers: { 'retry-after': '1' } }, { text: 'hello' });
 *   // OPENAI_BASE_URL = openai.baseURL … then: openai.requests[1].at - openai.requests[0].at >= 1000
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { AddressInfo } from 'node:net';

export type LlmAnswer =
  /** A text answer, streamed in a few pieces when the request asks for a stream. */
  | { text: string; usage?: { input: number; output: number } }
  /** An error status with the provider's error body. */
  | { status: number; headers?: Record<string, string>; message?: string }
  /** A stream that sends its first piece of `text` and then hangs until the client goes away. */
  | { hang: string };

export interface LlmRequest {
  /** When it arrived (Date.now()). */
  at: number;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** Whether the client closed the connection before the answer was complete. */
  aborted: boolean;
}

export interface LlmServer {
  /** What the provider's SDK takes as its base URL (OpenAI's includes /v1, Anthropic's not). */
  baseURL: string;
  requests: LlmRequest[];
  /** Answers for the next requests, in order; a request with none scripted gets a 418 saying so. */
  script(...answers: LlmAnswer[]): void;
  close(): Promise<void>;
}

export const DEFAULT_USAGE = { input: 11, output: 7 };

export async function llmServer(provider: 'openai' | 'anthropic'): Promise<LlmServer> {
  const queue: LlmAnswer[] = [];
  const requests: LlmRequest[] = [];
  const path = provider === 'openai' ? '/v1/chat/completions' : '/v1/messages';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const recorded: LlmRequest = { at: Date.now(), path: req.url ?? '', headers: req.headers, body, aborted: false };
      requests.push(recorded);
      res.on('close', () => {
        if (!res.writableFinished) recorded.aborted = true;
      });
      if (req.method !== 'POST' || req.url !== path) return sendError(res, provider, { status: 404, message: `no route ${req.method} ${req.url}` });
      const answer = queue.shift() ?? { status: 418, message: 'no answer scripted for this request' };
      if ('status' in answer) return sendError(res, provider, answer);
      // xyn's clients always stream: a request that does not is a mistake this stand-in reports.
      if (body.stream !== true) return sendError(res, provider, { status: 400, message: 'this stand-in answers streamed requests only' });
      const model = String(body.model);
      if ('hang' in answer) return startStream(res, provider, model, [answer.hang], DEFAULT_USAGE);
      const usage = answer.usage ?? DEFAULT_USAGE;
      startStream(res, provider, model, splitText(answer.text), usage);
      endStream(res, provider, model, usage);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    baseURL: provider === 'openai' ? `${url}/v1` : url,
    requests,
    script: (...answers) => queue.push(...answers),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/** Both providers' servers for one test file: started before it, closed after it, their recorded requests cleared after each test. */
export function llmServersPerFile(): { openai: LlmServer; anthropic: LlmServer } {
  const servers = {} as { openai: LlmServer; anthropic: LlmServer };
  beforeAll(async () => {
    [servers.openai, servers.anthropic] = await Promise.all([llmServer('openai'), llmServer('anthropic')]);
  });
  afterAll(async () => {
    await Promise.all([servers.openai.close(), servers.anthropic.close()]);
  });
  afterEach(() => {
    servers.openai.requests.length = 0;
    servers.anthropic.requests.length = 0;
  });
  return servers;
}

function sendError(res: ServerResponse, provider: 'openai' | 'anthropic', answer: { status: number; headers?: Record<string, string>; message?: string }): void {
  const message = answer.message ?? `scripted status ${answer.status}`;
  const body = provider === 'openai' ? { error: { message, type: 'server_error', code: null } } : { type: 'error', error: { type: 'api_error', message } };
  res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(body));
}

/** The text in three pieces or fewer, so the SDK's deltas have to be assembled. */
function splitText(text: string): string[] {
  const size = Math.max(1, Math.ceil(text.length / 3));
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces.length > 0 ? pieces : [''];
}

function sse(res: ServerResponse, data: unknown, event?: string): void {
  res.write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
}

function startStream(res: ServerResponse, provider: 'openai' | 'anthropic', model: string, pieces: string[], usage: { input: number; output: number }): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  if (provider === 'openai') {
    const chunk = (delta: Record<string, unknown>) => ({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta, finish_reason: null }] });
    sse(res, chunk({ role: 'assistant', content: '' }));
    for (const piece of pieces) sse(res, chunk({ content: piece }));
  } else {
    sse(res, { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', content: [], model, stop_reason: null, stop_sequence: null, usage: { input_tokens: usage.input, output_tokens: 1 } } }, 'message_start');
    sse(res, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start');
    for (const piece of pieces) sse(res, { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } }, 'content_block_delta');
  }
}

function endStream(res: ServerResponse, provider: 'openai' | 'anthropic', model: string, usage: { input: number; output: number }): void {
  if (provider === 'openai') {
    sse(res, { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    sse(res, { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 0, model, choices: [], usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output } });
    res.end('data: [DONE]\n\n');
  } else {
    sse(res, { type: 'content_block_stop', index: 0 }, 'content_block_stop');
    sse(res, { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: usage.output } }, 'message_delta');
    sse(res, { type: 'message_stop' }, 'message_stop');
    res.end();
  }
}
