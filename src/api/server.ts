/**
 * The node's API server: one uWebSockets.js app on one port (DESIGN.md §6)
 * in front of the kernel and the engine.
 *
 *   const server = await startApiServer({ kernel, engine, host: '127.0.0.1', port: 0 });
 *   // server.port, server.routes ... await server.close();
 *
 * Secure by default: every route but health needs a bearer token
 * (`XYN_AUTH=token`); `XYN_AUTH=open` — everyone is admiral — is refused
 * unless the server listens on loopback only.
 */
import uWS from 'uWebSockets.js';
import { createServer } from 'node:net';
import type { Kernel } from '../kernel/kernel.ts';
import type { HxoEngine } from '../hxo/engine.ts';
import { ConfigError } from '../kernel/config.ts';
import { VERSION } from '../cli/version.ts';
import { CAPABILITIES, TokenStore, roleCapabilities, type Principal } from './auth.ts';
import { ApiError } from './errors.ts';
import { serveHttp } from './http.ts';
import { streamCounters, type StreamCounters } from './http-stream.ts';
import { Router, type Route } from './router.ts';
import { hxoRoutes } from './routes/hxo.ts';
import { moduleRoots } from '../hxo/plan-modules.ts';
import { eventRoutes } from './routes/events.ts';
import { serveStream } from './stream.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { outputRoutes } from './routes/outputs.ts';

export interface ApiServerOptions {
  kernel: Kernel;
  /** Absent when HXO_ENABLED is false: its routes are then not served (404). */
  engine?: HxoEngine;
  host: string;
  port: number;
  /** Largest request body (default 1 MiB). */
  maxBodyBytes?: number;
  /** Where plans submitted over HTTP resolve relative paths (default: the working directory). */
  baseDir?: string;
  /** How long a stream client may stay stalled before it is closed (default 10 s). */
  streamStallMs?: number;
}

export interface ApiServer {
  port: number;
  routes: readonly Route[];
  tokens: TokenStore;
  /** WebSocket clients connected now. */
  streamClients(): number;
  /** Streamed HTTP answers (NDJSON): open, waiting on their client, bytes written, completed, cut short. */
  httpStreams(): Readonly<StreamCounters>;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { kernel, engine } = options;
  const { config } = kernel;
  if (config.XYN_AUTH === 'open' && !LOOPBACK.has(options.host)) {
    throw new ConfigError('XYN_AUTH', `"open" is allowed only on a loopback host (127.0.0.1, ::1, localhost); this server would listen on ${options.host}`);
  }
  const tokens = new TokenStore(kernel.store);
  const captainView = config.HXO_ALLOW_CAPTAIN_VIEW;
  const everything: Principal = { id: 'local', role: 'admiral', capabilities: new Set(CAPABILITIES) };

  const authenticate = (authorization: string, queryToken: string | null): Principal | ApiError => {
    if (config.XYN_AUTH === 'open') return everything;
    let token = queryToken ?? '';
    if (authorization !== '') {
      const m = /^Bearer\s+(\S+)$/i.exec(authorization);
      if (!m) return new ApiError(401, 'unauthorized', 'the Authorization header must be "Bearer <token>"');
      token = m[1] as string;
    }
    if (token === '') return new ApiError(401, 'unauthorized', 'a bearer token is required (Authorization: Bearer <token>)');
    const record = tokens.lookup(token);
    if (!record) return new ApiError(401, 'unauthorized', 'the token is not valid (unknown or revoked)');
    return { id: record.principal, role: record.role, capabilities: roleCapabilities(record.role, { captainView }), token_id: record.token_id };
  };

  const baseDir = options.baseDir ?? process.cwd();
  const app = uWS.App();
  const stream = serveStream(app, { bus: kernel.bus, authenticate, log: kernel.log, ...(options.streamStallMs ? { stallMs: options.streamStallMs } : {}) });
  const routes = [
    ...eventRoutes(kernel.bus, kernel.events, Date.now(), VERSION),
    ...tokenRoutes(tokens, kernel.bus, (tokenId) => stream.closeToken(tokenId)),
    ...(engine ? hxoRoutes(engine, kernel.log, baseDir, moduleRoots(baseDir, config.HXO_JOB_KIND_MODULES, process.cwd())) : []),
    ...(engine ? outputRoutes(engine, kernel.cas) : []),
  ];
  const streams = streamCounters();
  serveHttp(app, { router: new Router(routes), authenticate: (authorization) => authenticate(authorization, null), log: kernel.log, maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024, streams });
  const listenSocket = await listenExclusive(app, options.host, options.port);
  const port = uWS.us_socket_local_port(listenSocket);
  kernel.notice('xyn.api.listening', { host: options.host, port, auth: config.XYN_AUTH, routes: routes.length });
  let closed = false;
  return {
    port,
    routes,
    tokens,
    streamClients: stream.clients,
    httpStreams: () => ({ ...streams }),
    async close() {
      if (closed) return;
      closed = true;
      uWS.us_listen_socket_close(listenSocket);
      stream.close();
    },
  };
}

/**
 * uSockets' LIBUS_LISTEN_EXCLUSIVE_PORT. By default uWS sets SO_REUSEPORT on
 * Linux, so a second node on a taken port would start too and the kernel
 * would split connections between the two. The typings declare the option
 * only as a type-only enum, and no `listen(host, port, options, cb)`; the
 * native build takes it, and its `ws` fallback ignores it (node:http listens
 * exclusively anyway).
 */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;
declare module 'uWebSockets.js' {
  interface TemplatedApp {
    listen(host: RecognizedString, port: number, options: number, cb: (listenSocket: us_listen_socket | false) => void): TemplatedApp;
  }
}

function listenExclusive(app: uWS.TemplatedApp, host: string, port: number): Promise<uWS.us_listen_socket> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, (socket) => {
      if (socket) resolve(socket);
      else whyNotListening(host, port).then(reject, reject);
    });
  });
}

/** uWS says only that listen failed; node:net, binding the same way, says why. */
function whyNotListening(host: string, port: number): Promise<ConfigError> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(new ConfigError('XYN_PORT', `${host}:${port} is in use: another process holds it (stop it, or choose another --port / XYN_PORT)`));
      else if (err.code === 'EACCES') resolve(new ConfigError('XYN_PORT', `${host}:${port}: permission denied (ports below 1024 need privileges; choose another --port / XYN_PORT)`));
      else resolve(new ConfigError('XYN_HOST', `cannot listen on ${host}:${port} (${err.code ?? err.message}): is ${host} an address of this machine?`));
    });
    // Free again by now (the holder let go in between): say what is known.
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(new ConfigError('XYN_PORT', `cannot listen on ${host}:${port}`))));
  });
}
