/**
 * A serving workflow node for the notification tests (test/xyn/runs's, with
 * its API on a free loopback port): a token of each role, the SDK's client
 * for each, and `settled()` to wait until the notifier has read everything
 * published so far.
 */
import { ROLES, type Role } from '../../../src/api/auth.ts';
import type { XynNode } from '../../../src/node/node.ts';
import { XynClient } from '../../../src/sdk/client.ts';
import type { Notifier } from '../../../src/xyn/notifications/index.ts';
import { waitFor } from '../../kernel/helpers.ts';
import { workflowNodes, type WorkflowNode } from '../runs/helpers.ts';

export interface NotifyingNode extends WorkflowNode {
  notifier: Notifier;
  url: string;
  tokens: Record<Role, string>;
  clients: Record<Role, XynClient>;
  /** Resolves once the notifier has handled every event published before the call. */
  settled(): Promise<void>;
}

/** Starts nodes for one test file; all are stopped and their dirs removed after it. */
export function notifyingNodes(): (env?: Record<string, string>, dir?: string) => Promise<NotifyingNode> {
  const start = workflowNodes();
  return async (env = {}, dir) => {
    const w = await start(env, { api: true, ...(dir ? { dir } : {}) });
    const server = w.node.server as NonNullable<XynNode['server']>;
    const url = `http://127.0.0.1:${server.port}`;
    const tokens = {} as Record<Role, string>;
    const clients = {} as Record<Role, XynClient>;
    for (const role of ROLES) {
      tokens[role] = (await server.tokens.create(`${role}-user`, role)).token;
      clients[role] = new XynClient({ url, token: tokens[role] });
    }
    const notifier = w.node.notifier as Notifier;
    return {
      ...w,
      notifier,
      url,
      tokens,
      clients,
      async settled() {
        // An info alert is read by the notifier and raises nothing: once its place is past it, all before it is handled.
        const marker = await w.node.kernel.bus.publish('hxo.alert', { alert_type: 'test_marker', severity: 'info', message: 'marker' });
        await waitFor(() => (notifier.book.cursor ?? 0) >= marker.seq, 10_000, `the notifier to read up to seq ${marker.seq}`);
      },
    };
  };
}
