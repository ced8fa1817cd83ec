/**
 * The node's API server: one uWebSockets.js app on one port (DESIGN.md §6)
 * in front of the kernel and the engine. The port is the gate's
 * (gate/gate.ts), which reads every request before uWS does; uWS listens on
 * a loopback port of its own that only the gate connects to.
 *
 *   const server = await startApiServer({ kernel, engine, host: '127.0.0.1', port: 0 });
 *   // server.port, server.routes ... await server.close();
 *
 * Secure by default: every route but health and the API's description
 * (`/api/v1/openapi.json`, openapi.ts) needs a bearer token
 * (`XYN_AUTH=token`); `XYN_AUTH=open` — everyone is admiral — is refused
 * unless the server listens on loopback only.
 */
import uWS from 'uWebSockets.js';
import type { Kernel } from '../kernel/kernel.ts';
import type { HxoEngine } from '../hxo/engine.ts';
import { ConfigError, isLoopback } from '../kernel/config.ts';
import { VERSION } from '../core/version.ts';
import { CAPABILITIES, TokenStore, roleCapabilities, type Principal } from './auth.ts';
import { ApiError } from './errors.ts';
import { serveHttp } from './http.ts';
import { streamCounters, type StreamCounters } from './http-stream.ts';
import { Router, type Route } from './router.ts';
import { hxoRoutes } from './routes/hxo.ts';
import { inputRoots } from '../hxo/plan/plan-inputs.ts';
import { moduleRoots } from '../hxo/plan/plan-modules.ts';
import { eventRoutes } from './routes/events.ts';
import { serveStream, type StreamStats } from './stream.ts';
import { streamLimits } from './stream-limits.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { outputRoutes } from './routes/outputs.ts';
import { actorRoutes } from './routes/actors.ts';
import { draftRoutes } from './routes/drafts.ts';
import { runRoutes } from './routes/runs.ts';
import { footprintRoutes } from './routes/footprints.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { secretRoutes } from './routes/secrets.ts';
import type { SecretStore } from '../xyn/secrets/index.ts';
import { artifactRoutes } from './routes/artifacts.ts';
import type { ArtifactBook } from '../xyn/artifacts/index.ts';
import { DraftBook } from '../xyn/drafts/index.ts';
import type { RunEngine } from '../xyn/runs/run-engine.ts';
import type { NotificationBook } from '../xyn/notifications/index.ts';
import { withOpenApi } from './openapi.ts';
import { InProcessApi, PageServer, type PageContext, type PageSet } from './pages.ts';
import { portProblem, type Gate } from './gate/gate.ts';
import { startGateThread } from './gate/gate-thread.ts';
import { RefusalCodec } from './gate/refusal.ts';
import type { StreamedBodies } from './gate/request-head.ts';

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
  /**
   * Benchmarks only (bench/api.ts): uWS listens on this loopback port too,
   * with no gate in front, so that the gate's cost is measured in the same
   * run. Never for serving: requests there are not checked.
   */
  ungatedPort?: number;
  /** How long a request may take to arrive once it began before it is answered 408 (default 10 s). */
  requestTimeoutMs?: number;
  /** The node's drafts and promoted blueprints (default: a DraftBook over the kernel's store). */
  drafts?: DraftBook;
  /** The node's workflow runs: the runs and hooks routes are served only with them. */
  runs?: RunEngine;
  /** The node's notifications: their routes are served only with them. */
  notifications?: NotificationBook;
  /** The node's secrets: the secrets routes are served only with them. */
  secrets?: SecretStore;
  /** The node's artifacts: the artifacts routes are served only with them. */
  artifacts?: ArtifactBook;
  /** The UI's pages (`/`, `/ui/...`), made from the API in process (src/ui/); none when absent. */
  pages?: (ctx: PageContext) => PageSet;
}

export interface ApiServer {
  port: number;
  routes: readonly Route[];
  tokens: TokenStore;
  /** WebSocket clients connected now. */
  streamClients(): number;
  /** The stream's numbers: clients, subscriptions, clients refused for a limit, its shared cache of encoded events. */
  streamStats(): StreamStats;
  /** Streamed HTTP answers (NDJSON): open, waiting on their client, bytes written, completed, cut short. */
  httpStreams(): Readonly<StreamCounters>;
  /** The gate's connections, requests passed on and requests refused. */
  gate: Gate['counters'];
  /** Where uWS listens without the gate, when `ungatedPort` asked for it. */
  ungatedPort?: number;
  close(): Promise<void>;
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { kernel, engine } = options;
  const { config } = kernel;
  // The same rule as the config's (kernel/config.ts): a server may be given a host the config never saw.
  if (config.XYN_AUTH === 'open' && !isLoopback(options.host)) {
    throw new ConfigError('XYN_AUTH', `"open" is allowed only on a loopback host (127.x.x.x, ::1, localhost); this server would listen on ${options.host}`);
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
  const stream = serveStream(app, {
    bus: kernel.bus,
    events: kernel.events,
    authenticate,
    log: kernel.log,
    limits: streamLimits(config),
    ...(options.streamStallMs ? { stallMs: options.streamStallMs } : {}),
  });
  const routes = withOpenApi(
    [
      ...eventRoutes(kernel.bus, kernel.events, kernel.space, Date.now(), VERSION),
      ...tokenRoutes(tokens, kernel.bus, (tokenId) => stream.closeToken(tokenId)),
      ...actorRoutes(() => kernel.actors()),
      ...draftRoutes(options.drafts ?? new DraftBook(kernel.store), kernel.bus),
      ...(options.runs ? runRoutes(options.runs, kernel.bus, kernel.space) : []),
      ...(options.runs?.footprints ? footprintRoutes(options.runs, options.runs.footprints) : []),
      ...(options.notifications ? notificationRoutes(options.notifications, kernel.bus) : []),
      ...(options.secrets ? secretRoutes(options.secrets, kernel.bus) : []),
      ...(options.artifacts ? artifactRoutes(options.artifacts) : []),
      ...(engine ? hxoRoutes(engine, kernel.log, baseDir, { modules: moduleRoots(baseDir, config, process.cwd()), inputs: inputRoots(baseDir, config, process.cwd()) }) : []),
      ...(engine ? outputRoutes(engine, kernel.cas) : []),
    ],
    VERSION,
  );
  const streams = streamCounters();
  const refusals = new RefusalCodec();
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const router = new Router(routes);
  const signIn = (token: string) => authenticate(`Bearer ${token}`, null);
  const pageContext: PageContext = { api: new InProcessApi(router), signIn };
  const pages = options.pages ? new PageServer(options.pages(pageContext), { ...pageContext, open: config.XYN_AUTH === 'open', maxBodyBytes }) : undefined;
  serveHttp(app, { router, authenticate: (authorization) => authenticate(authorization, null), log: kernel.log, maxBodyBytes, streams, refusals, ...(pages ? { pages } : {}) });
  let listenSocket: uWS.us_listen_socket | undefined;
  let ungated: uWS.us_listen_socket | undefined;
  let gate: Gate;
  try {
    if (options.ungatedPort !== undefined) ungated = await listenExclusive(app, '127.0.0.1', options.ungatedPort);
    if (config.XYN_API_GATE === 'off') {
      listenSocket = await listenExclusive(app, options.host, options.port);
      gate = noGate(uWS.us_socket_local_port(listenSocket));
    } else {
      listenSocket = await listenExclusive(app, '127.0.0.1', 0);
      const limits = { maxHeaders: UWS_MAX_HEADERS, maxBodyBytes, ...(options.artifacts ? { streamed: uploads(options.artifacts.limits.maxBytes) } : {}) };
      gate = await startGateThread({ host: options.host, port: options.port, appPort: uWS.us_socket_local_port(listenSocket), limits, secret: refusals.secret, ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}) }, (err) =>
        kernel.log.error({ err }, 'the API gate thread died: the port no longer answers'),
      );
    }
  } catch (err) {
    for (const socket of [listenSocket, ungated]) if (socket) uWS.us_listen_socket_close(socket);
    stream.close();
    throw err;
  }
  const port = gate.port;
  kernel.notice('xyn.api.listening', { host: options.host, port, auth: config.XYN_AUTH, routes: routes.length });
  let closed = false;
  return {
    port,
    routes,
    tokens,
    streamClients: stream.clients,
    streamStats: stream.stats,
    httpStreams: () => ({ ...streams }),
    gate: gate.counters,
    ...(ungated ? { ungatedPort: uWS.us_socket_local_port(ungated) } : {}),
    async close() {
      if (closed) return;
      closed = true;
      // Streams first: their clients get the closing frame (1001) before the gate ends the connections.
      stream.close();
      await gate.close();
      for (const socket of [listenSocket, ungated]) if (socket) uWS.us_listen_socket_close(socket);
    },
  };
}

/**
 * Artifact uploads pass the gate as they arrive. The artifact store counts
 * the bytes and refuses past its limit (413, while the client still sends);
 * the gate's own limit is a backstop above it, with room for a multipart
 * body's framing and for what is in flight when the store refuses.
 */
function uploads(maxArtifactBytes: number): StreamedBodies {
  return { route: /^(POST \/api\/v1\/artifacts|PUT \/api\/v1\/artifacts\/[^/]+\/upload)$/, maxBodyBytes: maxArtifactBytes + UPLOAD_SLACK_BYTES };
}
const UPLOAD_SLACK_BYTES = 16 * 1024 * 1024;

/** uWS reads at most this many header fields (compile-time); the gate refuses more with 431. */
const UWS_MAX_HEADERS = 48;

/**
 * uWS on a port, exclusively (uSockets' LIBUS_LISTEN_EXCLUSIVE_PORT): by
 * default uWS sets SO_REUSEPORT on Linux, and another process binding the
 * same port would be handed some of its connections (the gate's, or a second
 * node's). The typings
 * declare the option only as a type-only enum, and no
 * `listen(host, port, options, cb)`; the native build takes it.
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
      else portProblem(host, port).then(reject, reject);
    });
  });
}

/** XYN_API_GATE=off: uWS holds the port itself; nothing is counted. */
function noGate(port: number): Gate {
  return { port, counters: { connections: 0, forwarded: 0, refused: 0 }, close: () => Promise.resolve() };
}
