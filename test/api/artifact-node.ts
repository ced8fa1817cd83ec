/**
 * A real serving node for the artifact suites: kernel, run engine, artifact
 * store and the API server (gate in front) on a free loopback port, in a
 * temp data dir, with an operator and a viewer token; stopped and removed
 * after the suite.
 */
import { request } from 'node:http';
import { afterAll } from 'vitest';
import { loadConfig } from '../../src/kernel/config.ts';
import { createLogger } from '../../src/kernel/log.ts';
import { startNode, type XynNode } from '../../src/node/node.ts';
import { casRefsDb } from '../../src/store/cas.ts';
import { tempDir } from '../kernel/helpers.ts';

export interface ArtifactNode {
  node: XynNode;
  url: string;
  port: number;
  operator: string;
  viewer: string;
  /** Ids of the artifacts holding chunks in the CAS (`cas_refs` owners `artifact:<id>`). */
  chunkOwners(): Set<string>;
}

/** Starts nodes for one test file; all are stopped and their dirs removed after it. */
export function artifactNodes(): (env?: Record<string, string>) => Promise<ArtifactNode> {
  const started: { stop(): Promise<void> }[] = [];
  const dirs: { cleanup(): void }[] = [];
  // The nodes stop together: one after another, on a CI machine busy with other files, they once took past the default 30 s.
  afterAll(async () => {
    await Promise.all(started.splice(0).map((n) => n.stop()));
    for (const d of dirs.splice(0)) d.cleanup();
  }, 60_000);
  return async (env = {}) => {
    const dir = tempDir();
    dirs.push(dir);
    const config = loadConfig({ env: { XYN_DATA_DIR: dir.path, XYN_WORKERS: '1', ...env } });
    const node = await startNode(config, { log: createLogger('warn', 'stderr'), workflows: true, engine: false, serving: true, api: { host: '127.0.0.1', port: 0 } });
    started.push(node);
    const server = node.server as NonNullable<XynNode['server']>;
    const refs = casRefsDb(node.kernel.store);
    return {
      node,
      port: server.port,
      url: `http://127.0.0.1:${server.port}`,
      operator: (await server.tokens.create('ana', 'operator')).token,
      viewer: (await server.tokens.create('vic', 'viewer')).token,
      chunkOwners() {
        const owners = new Set<string>();
        for (const key of refs.getKeys({ start: 'o:artifact:', end: 'o:artifact:\uffff' })) owners.add(key.split(':')[2] as string);
        return owners;
      },
    };
  };
}

export interface StreamedUpload {
  status: number;
  body: Record<string, unknown>;
  /** Bytes taken from the source before the answer came. */
  sent: number;
}

/**
 * POSTs a chunked body taken from `source` as the socket drains, and stops
 * taking from it once an answer arrives (a refusal mid-stream).
 */
export function streamUpload(port: number, path: string, token: string, source: Iterable<Uint8Array>, contentType = 'application/octet-stream'): Promise<StreamedUpload> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType, 'transfer-encoding': 'chunked' } }, (res) => {
      answered = true;
      let text = '';
      res.on('data', (b: Buffer) => (text += b.toString()));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown>, sent });
      });
    });
    // The connection is dropped once the refusal is read: writes after it fail, as they should.
    req.on('error', (err) => (answered ? undefined : reject(err)));
    const pieces = source[Symbol.iterator]();
    const pump = (): void => {
      for (;;) {
        if (answered) return;
        const next = pieces.next();
        if (next.done) {
          req.end();
          return;
        }
        sent += next.value.byteLength;
        if (!req.write(next.value)) {
          req.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

/** `total` bytes in pieces of `size`, made as they are asked for (never all at once). */
export function* generated(total: number, size = 64 * 1024): Generator<Uint8Array> {
  for (let at = 0; at < total; at += size) yield Buffer.alloc(Math.min(size, total - at), at % 251);
}
