/**
 * The gate: what listens on the API's port, in front of uWebSockets.js.
 *
 * The uWS build that runs here (20.30, the newest of its package on npm;
 * the next build on npm needs glibc 2.38, this machine has 2.36) leaves
 * malformed or merely unusual requests unanswered, and takes the first of
 * two differing Content-Lengths (request-head.ts lists what and why). Its
 * parser is native and cannot be changed, and it has no hook for requests
 * it cannot parse. So the gate — node:net, one connection to uWS per client
 * connection, to a loopback port uWS holds exclusively — reads each
 * request first (connection.ts), passes on the ones uWS serves as they
 * are, rewrites the few it can serve once rewritten, and has the app answer
 * the rest (refusal.ts). uWS no longer listens on the API's port. (Not over
 * a unix socket: this uWS stalls a response that waits on backpressure over
 * one — its onWritable fires, and the write after it never comes.)
 * The gate runs on a thread of its own (gate-thread.ts, actors/gate.ts):
 * its reading and copying cost the app's thread nothing.
 *
 *   const gate = await startGate({ host, port, appPort, limits, refusals, counters });
 *   gate.port; await gate.close();
 */
import { createServer, connect, type Server } from 'node:net';
import { ConfigError } from '../../kernel/config.ts';
import { GateConnection, type GateCounters } from './connection.ts';
import type { RefusalCodec } from './refusal.ts';
import type { HeadLimits } from './request-head.ts';

export interface GateOptions {
  host: string;
  port: number;
  /** The loopback port uWS listens on. */
  appPort: number;
  limits: HeadLimits;
  refusals: RefusalCodec;
  counters: GateCounters;
  /** How long a request may take to arrive once it began (default 10 s, uWS's idle timeout): then 408. */
  requestTimeoutMs?: number;
}

export interface Gate {
  port: number;
  counters: Readonly<GateCounters>;
  close(): Promise<void>;
}

/** A head is read whole before uWS gets it in one write (uWS itself keeps 4 KiB of a head split across reads). */
const MAX_HEAD_BYTES = 16 * 1024;

export async function startGate(options: GateOptions): Promise<Gate> {
  const { counters } = options;
  const connections = new Set<GateConnection>();
  const connectionOptions = {
    limits: options.limits,
    maxHeadBytes: MAX_HEAD_BYTES,
    timeoutMs: options.requestTimeoutMs ?? 10_000,
    refusals: options.refusals,
    // No Nagle on the hop to uWS either: a request is one write, to go at once.
    connectApp: () => connect({ port: options.appPort, host: '127.0.0.1', noDelay: true }),
    counters,
  };
  // Half-open: a client that ends its side after a request still gets the answer.
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    const connection = new GateConnection(socket, connectionOptions);
    connections.add(connection);
    socket.on('close', () => connections.delete(connection));
  });
  await listen(server, options.host, options.port);
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    counters,
    close: () =>
      new Promise<void>((resolve) => {
        // Resolves once every connection has closed. A stopping node answers no more: kept-alive and streaming ones end now.
        server.close(() => resolve());
        for (const c of connections) c.shutdown();
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

/** Why host:port cannot be listened on, asked of node:net (uWS says only that listen failed). */
export function portProblem(host: string, port: number): Promise<ConfigError> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(listenError(err, host, port)));
    // Free again by now (the holder let go in between): say what is known.
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(new ConfigError('XYN_PORT', `cannot listen on ${host}:${port}`))));
  });
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): ConfigError {
  if (err.code === 'EADDRINUSE') return new ConfigError('XYN_PORT', `${host}:${port} is in use: another process holds it (stop it, or choose another --port / XYN_PORT)`);
  if (err.code === 'EACCES') return new ConfigError('XYN_PORT', `${host}:${port}: permission denied (ports below 1024 need privileges; choose another --port / XYN_PORT)`);
  return new ConfigError('XYN_HOST', `cannot listen on ${host}:${port} (${err.code ?? err.message}): is ${host} an address of this machine?`);
}
