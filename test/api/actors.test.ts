/**
 * `GET /api/v1/actors` on a real node: the live supervision tree (root with
 * the audit trail, the `xyn` supervisor, the engine's actors, then the pool
 * with XYN_WORKERS threads), each node with its uptime; who may read it
 * (`hxo:view`, as a plan's status); and the pool's threads counting the
 * tasks of a plan that ran.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActorTree, ActorView } from '../../src/api/routes/actors.ts';
import { computeHashPlan } from '../hxo/helpers.ts';
import { startApi, type TestApi } from './helpers.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startApi({ XYN_WORKERS: '3' });
});
afterAll(async () => {
  await api?.close();
});

async function tree(token?: string): Promise<ActorTree> {
  const answer = await api.call('GET', '/api/v1/actors', token ? { token } : {});
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as unknown as ActorTree;
}

const child = <T extends { name: string; children?: T[] | undefined }>(node: T, name: string): T => {
  const found = node.children?.find((c) => c.name === name);
  if (!found) throw new Error(`${node.name} has no child ${name}: ${node.children?.map((c) => c.name).join(', ')}`);
  return found;
};

describe('GET /api/v1/actors', () => {
  it('root, its children in order, then the pool with one thread per worker; uptimes as of the answer', async () => {
    const before = Date.now();
    const { at, tree: root } = await tree();
    expect(at).toBeGreaterThanOrEqual(before);
    expect(root).toMatchObject({ name: 'root', kind: 'supervisor', state: 'running', restarts: 0 });
    expect(root.children?.map((c) => [c.name, c.kind])).toEqual([
      ['audit', 'topic'],
      ['xyn', 'supervisor'],
      ['autonomy', 'topic'],
      ['hxo', 'supervisor'],
      ['pool', 'pool'],
    ]);
    // No plan is live: hxo holds plan retention and the heal listener.
    expect(child(root, 'hxo').children?.map((c) => [c.name, c.kind])).toEqual([
      ['hxo.retention', 'retention'],
      ['hxo.genesis', 'topic'],
    ]);
    expect(child(root, 'xyn')).toMatchObject({ state: 'running', children: [] });
    const pool = child(root, 'pool');
    expect(pool.children?.map((t) => [t.name, t.kind])).toEqual([
      ['thread:0', 'shard-worker'],
      ['thread:1', 'shard-worker'],
      ['thread:2', 'shard-worker'],
    ]);
    // Every running node says since when, and its uptime is counted to `at`.
    const all = (n: ActorView): ActorView[] => [n, ...(n.children ?? []).flatMap(all)];
    for (const n of all(root)) {
      expect(n.started_at, n.name).not.toBeNull();
      expect(n.uptime_ms, n.name).toBe(at - (n.started_at as number));
      for (const k of ['mailbox', 'handled', 'restarts'] as const) expect(Number.isInteger(n[k]), `${n.name} ${k}`).toBe(true);
    }
  });

  it('needs hxo:view: an operator reads it, a viewer is refused (403), no token is 401', async () => {
    expect((await tree(api.tokens.operator)).tree.name).toBe('root');
    const viewer = await api.call('GET', '/api/v1/actors', { token: api.tokens.viewer });
    expect(viewer.status).toBe(403);
    expect((viewer.body.error as { message: string }).message).toContain('hxo:view');
    const anonymous = await api.call('GET', '/api/v1/actors', { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.tree).toBeUndefined();
  });

  it('a live plan is plan:<id> under hxo, its actor running; after it, the pool and its threads have handled its tasks, and the audit trail its audit event', async () => {
    const poolBefore = child((await tree()).tree, 'pool');
    const { planId, finished } = await api.node.engine.submit(computeHashPlan('actors', 200), { baseDir: process.cwd() });
    // Launched within the submit: live now, before any of its batches can have come back.
    const plan = child(child(api.node.kernel.actors(), 'hxo'), `plan:${planId}`);
    expect(plan).toMatchObject({ kind: 'supervisor', state: 'running', restarts: 0 });
    expect(plan.children).toEqual([expect.objectContaining({ name: `plan:${planId}.run`, kind: 'plan', state: 'running', restarts: 0 })]);
    expect((await finished).state).toBe('certified');
    // Ended: its supervisor left the tree.
    expect(child((await tree()).tree, 'hxo').children?.map((c) => c.name)).toEqual(['hxo.retention', 'hxo.genesis']);
    await api.node.kernel.audit.caughtUp();
    const { tree: root } = await tree();
    const pool = child(root, 'pool');
    const threads = pool.children ?? [];
    expect(pool.handled).toBeGreaterThan(poolBefore.handled);
    // Every task counted to its thread: none is lost between the pool and its threads.
    expect(threads.reduce((sum, t) => sum + t.handled, 0)).toBe(pool.handled);
    expect(threads.some((t) => t.handled > 0)).toBe(true);
    expect(pool.mailbox).toBe(0);
    // The submit is on hxo.audit: the audit trail handled at least that event.
    expect(child(root, 'audit').handled).toBeGreaterThan(0);
  });
});
