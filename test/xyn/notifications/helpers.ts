/**
 * A serving workflow node for the notification tests: kernel, run engine,
 * notifier and the API on a free loopback port, in a temp data dir; a token
 * of each role, the SDK's client for each, and `settled()` to wait until the
 * notifier has read everything published so far.
 */
import { afterAll } from 'vitest';
import { stringify } from 'yaml';
import { ROLES, type Role } from '../../../src/api/auth.ts';
import { loadConfig } from '../../../src/kernel/config.ts';
import { createLogger } from '../../../src/kernel/log.ts';
import { startNode, type XynNode } from '../../../src/node/node.ts';
import { XynClient } from '../../../src/sdk/client.ts';
import type { Notifier } from '../../../src/xyn/notifications/index.ts';
import type { RunEngine } from '../../../src/xyn/runs/run-engine.ts';
import { tempDir, waitFor } from '../../kernel/helpers.ts';

export interface NotifyingNode {
  node: XynNode;
  runs: RunEngine;
  notifier: Notifier;
  dir: string;
  url: string;
  tokens: Record<Role, string>;
  clients: Record<Role, XynClient>;
  promote(blueprint: Record<string, unknown>): Promise<void>;
  /** Resolves once the notifier has handled every event published before the call. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts nodes for one test file; all are stopped and their dirs removed after it. */
export function notifyingNodes(): (env?: Record<string, string>, dir?: string) => Promise<NotifyingNode> {
  const started: NotifyingNode[] = [];
  const dirs: { cleanup(): void }[] = [];
  afterAll(async () => {
    for (const n of started.splice(0)) await n.stop();
    for (const d of dirs.splice(0)) d.cleanup();
  });
  return async (env = {}, dir) => {
    if (!dir) {
      const tmp = tempDir();
      dirs.push(tmp);
      dir = tmp.path;
    }
    const config = loadConfig({ env: { XYN_DATA_DIR: dir, XYN_WORKERS: '1', ...env } });
    const node = await startNode(config, { log: createLogger('warn', 'stderr'), workflows: true, engine: false, api: { host: '127.0.0.1', port: 0 } });
    const server = node.server as NonNullable<XynNode['server']>;
    const url = `http://127.0.0.1:${server.port}`;
    const tokens = {} as Record<Role, string>;
    const clients = {} as Record<Role, XynClient>;
    for (const role of ROLES) {
      tokens[role] = (await server.tokens.create(`${role}-user`, role)).token;
      clients[role] = new XynClient({ url, token: tokens[role] });
    }
    const notifier = node.notifier as Notifier;
    let stopped = false;
    const handle: NotifyingNode = {
      node,
      runs: node.runs as RunEngine,
      notifier,
      dir,
      url,
      tokens,
      clients,
      async promote(bp) {
        const saved = await node.drafts.save({ text: stringify(bp), by: 'test' });
        const { report } = await node.drafts.validate(saved.draft_id);
        if (!report.is_valid) throw new Error(`test blueprint invalid: ${JSON.stringify(report.issues)}`);
        await node.drafts.promote(saved.draft_id, { revision: saved.revision, by: 'test' });
      },
      async settled() {
        // An info alert is read by the notifier and raises nothing: once its place is past it, all before it is handled.
        const marker = await node.kernel.bus.publish('hxo.alert', { alert_type: 'test_marker', severity: 'info', message: 'marker' });
        await waitFor(() => (notifier.book.cursor ?? 0) >= marker.seq, 10_000, `the notifier to read up to seq ${marker.seq}`);
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await node.stop();
      },
    };
    started.push(handle);
    return handle;
  };
}
