/**
 * The gate: what listens on the API's port, in front of uWebSockets.js.
 *
 * The uWS build that runs here (20.30, the newest of its package on npm;
 * the next build on npm needs glibc 2.38, this machine has 2.36) leaves
 * malformed or merely unusual requests unanswered, and takes the first of
 * two differing Content-Lengths (request-head.ts lists what and why). Its
 * parser is native and cannot be changed, and it has no hook for requests
 * it cannot parse. So the gate — node:net, one connection to uWS per client
 * connection, over a unix socket in a private directory — reads each
 * request first (connection.ts), passes on the ones uWS serves as they
 * are, rewrites the few it can serve once rewritten, and has the app answer
 * the rest (refusal.ts). uWS itself no longer listens on any TCP port.
 *
 *   const gate = await startGate({ host, port, app: uwsSocketPath, limits, ... });
 *   gate.port; gate.counters; await gate.close();
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { ConfigError } from '../../kernel/config.ts';
import { GateConnection, type GateCounters } from './connection.ts';
import type { RefusalCodec } from './refusal.ts';
import type { HeadLimits } from './request-head.ts';

export interface GateOptions {
  host: string;
  port: number;
  /** The unix socket uWS listens on. */
  appSocket: string;
  limits: HeadLimits;
  refusals: RefusalCodec;
}

export interface Gate {
  port: number;
  counters: Readonly<GateCounters>;
  close(): Promise<void>;
}

/** uWS's own bounds, kept: its head buffer is 4 KiB per read, the gate sends a head in one write; 10 s is its idle timeout. */
const MAX_HEAD_BYTES = 16 * 1024;
const TIMEOUT_MS = 10_000;

export async function startGate(options: GateOptions): Promise<Gate> {
  const counters: GateCounters = { connections: 0, forwarded: 0, refused: 0 };
  const sockets = new Set<Socket>();
  const connectionOptions = {
    limits: options.limits,
    maxHeadBytes: MAX_HEAD_BYTES,
    timeoutMs: TIMEOUT_MS,
    refusals: options.refusals,
    connectApp: () => connect(options.appSocket),
    counters,
  };
  // Half-open: a client that ends its side after a request still gets the answer.
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    new GateConnection(socket, connectionOptions);
  });
  await listen(server, options.host, options.port);
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    counters,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A stopping node answers no more: connections (kept alive, or streaming) end now.
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Listens on host:port — exclusively: node:net sets no SO_REUSEPORT, so a second node on the port is refused. */
function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, host, port)));
    server.listen({ host, port, exclusive: true }, () => resolve());
  });
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): ConfigError {
  if (err.code === 'EADDRINUSE') return new ConfigError('XYN_PORT', `${host}:${port} is in use: another process holds it (stop it, or choose another --port / XYN_PORT)`);
  if (err.code === 'EACCES') return new ConfigError('XYN_PORT', `${host}:${port}: permission denied (ports below 1024 need privileges; choose another --port / XYN_PORT)`);
  return new ConfigError('XYN_HOST', `cannot listen on ${host}:${port} (${err.code ?? err.message}): is ${host} an address of this machine?`);
}
