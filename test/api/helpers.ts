/**
 * A real node for the API suites: kernel, engine and the uWebSockets.js
 * server on a free loopback port, tokens for every role, and a small JSON
 * client over fetch.
 */
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import { DraftBook } from '../../src/xyn/drafts/index.ts';
import { RunEngine } from '../../src/xyn/runs/run-engine.ts';
import { FootprintBook } from '../../src/xyn/footprints/footprint-book.ts';
import { nodeSecretStore } from '../../src/xyn/secrets/index.ts';
import { ROLES, type Role } from '../../src/api/auth.ts';
import { startNode, type TestNode } from '../hxo/helpers.ts';

export interface TestApi {
  node: TestNode;
  server: ApiServer;
  /** The node's workflow runs, when `runs` asked for them. */
  runs: RunEngine | undefined;
  url: string;
  /** A live token of each role. */
  tokens: Record<Role, string>;
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
  close(): Promise<void>;
}

export interface CallOptions {
  token?: string | null;
  body?: unknown;
  /** Sent as is (not JSON-encoded). */
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

/** `runs`: a run engine too (its routes served), over the node's drafts, as a serving node has. */
export async function startApi(env: Record<string, string> = {}, options: { hxo?: boolean; maxBodyBytes?: number; runs?: boolean } = {}): Promise<TestApi> {
  const node = await startNode(env);
  const drafts = new DraftBook(node.kernel.store);
  const runs = options.runs ? new RunEngine({ kernel: node.kernel, drafts, footprints: new FootprintBook(node.kernel.store) }) : undefined;
  await runs?.start();
  const server = await startApiServer({
    kernel: node.kernel,
    drafts,
    // Its secrets routes served too (in the roles × routes matrix and the OpenAPI checks), over a file in the node's data dir.
    secrets: nodeSecretStore(node.kernel.config.secretsFile, {}, 'ab'.repeat(32)),
    ...(runs ? { runs } : {}),
    ...(options.hxo === false ? {} : { engine: node.engine }),
    host: '127.0.0.1',
    port: 0,
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
  });
  const tokens = {} as Record<Role, string>;
  for (const role of ROLES) tokens[role] = (await server.tokens.create(`${role}-user`, role)).token;
  const url = `http://127.0.0.1:${server.port}`;
  const call = async (method: string, path: string, o: CallOptions = {}): Promise<Answer> => {
    const token = o.token === undefined ? tokens.admiral : o.token;
    const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...o.headers };
    let body: string | Uint8Array | undefined = o.raw;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new Error(`${method} ${path} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return {
    node,
    server,
    runs,
    url,
    tokens,
    call,
    async close() {
      await server.close();
      await runs?.stop();
      await node.close();
    },
  };
}
