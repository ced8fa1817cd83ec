/**
 * A workflow node for the run tests: a kernel and its run engine in a temp
 * data dir (the API on a free loopback port when `api` asks for it), and
 * `promote` to make a blueprint active on it.
 */
import { afterAll } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../../src/kernel/config.ts';
import { createLogger } from '../../../src/kernel/log.ts';
import { startNode, type XynNode } from '../../../src/node/node.ts';
import type { Clock } from '../../../src/core/clock.ts';
import type { RunEngine } from '../../../src/xyn/runs/run-engine.ts';
import { tempDir } from '../../kernel/helpers.ts';

export interface WorkflowNode {
  node: XynNode;
  runs: RunEngine;
  dir: string;
  promote(blueprint: Record<string, unknown>): Promise<number>;
  /** Stops the node, keeping the data dir (a restart starts another on it). */
  stop(): Promise<void>;
}

/** Starts workflow nodes for one test file; all are stopped and their dirs removed after it. */
export function workflowNodes(): (env?: Record<string, string>, opts?: { dir?: string; clock?: Clock; engine?: boolean; api?: boolean }) => Promise<WorkflowNode> {
  const started: { stop(): Promise<void> }[] = [];
  const dirs: { cleanup(): void }[] = [];
  afterAll(async () => {
    for (const n of started.splice(0)) await n.stop();
    for (const d of dirs.splice(0)) d.cleanup();
  });
  return async (env = {}, opts = {}) => {
    let dir = opts.dir;
    if (!dir) {
      const tmp = tempDir();
      dirs.push(tmp);
      dir = tmp.path;
    }
    const config = loadConfig({ env: { XYN_DATA_DIR: dir, XYN_WORKERS: '1', ...env } });
    // With the engine, serving: plans a stop left unfinished resume, as on `xyn serve`.
    const node = await startNode(config, { log: createLogger('warn', 'stderr'), workflows: true, engine: opts.engine ?? false, serving: opts.engine ?? false, ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.api ? { api: { host: '127.0.0.1', port: 0 } } : {}) });
    let stopped = false;
    const handle: WorkflowNode = {
      node,
      runs: node.runs as RunEngine,
      dir,
      async promote(bp) {
        const saved = await node.drafts.save({ text: stringify(bp), by: 'test' });
        const { report } = await node.drafts.validate(saved.draft_id);
        if (!report.is_valid) throw new Error(`test blueprint invalid: ${JSON.stringify(report.issues)}`);
        return (await node.drafts.promote(saved.draft_id, { revision: saved.revision, by: 'test' })).version;
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
