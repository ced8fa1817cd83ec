/**
 * callNode over a real loopback server whose first connection is closed as
 * a request arrives on it (a kept-alive connection the node closed as it
 * was reused): a GET is sent once more and answered; a POST is not sent
 * twice — it fails, saying the node did not answer.
 */
import { createServer, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { callNode, NodeUnreachableError } from '../../src/sdk/http.ts';

const sockets = new Set<Socket>();
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  for (const s of sockets) s.destroy();
  await close?.();
});

/** A server that drops the first connection's request unanswered and answers the rest with `{"n": <requests seen>}`. */
async function droppingFirst(): Promise<{ url: string; requests: () => number }> {
  let connections = 0;
  let requests = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    const first = ++connections === 1;
    socket.on('data', () => {
      requests++;
      if (first) socket.destroy();
      else {
        const body = JSON.stringify({ n: requests });
        socket.end(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests: () => requests };
}

it('a GET whose connection is closed under it is sent once more, and answered', async () => {
  const node = await droppingFirst();
  await expect(callNode<{ n: number }>(node, 'GET', '/api/v1/health')).resolves.toEqual({ n: 2 });
  expect(node.requests()).toBe(2);
});

it('a POST whose connection is closed under it is not sent again: the node did not answer', async () => {
  const node = await droppingFirst();
  await expect(callNode(node, 'POST', '/api/v1/events', { event_type: 'x' })).rejects.toBeInstanceOf(NodeUnreachableError);
  expect(node.requests()).toBe(1);
});
