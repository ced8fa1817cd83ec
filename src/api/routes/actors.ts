/**
 * The live supervision tree over HTTP (`GET /api/v1/actors`, what `xyn ps`
 * prints): each actor's name, kind, state, mailbox depth, messages handled,
 * restarts, and its uptime, computed when the answer is made. It needs
 * `hxo:view`, as a plan's status does: the tree names what the node runs.
 */
import type { ActorInfo } from '../../kernel/actor.ts';
import type { Route } from '../router.ts';

/** An ActorInfo as the API gives it: with `uptime_ms` (null when not running), children alike. */
export type ActorView = Omit<ActorInfo, 'children'> & { uptime_ms: number | null; children?: ActorView[] };

/** The answer of `GET /api/v1/actors`. */
export interface ActorTree {
  /** Epoch ms the tree was read at (uptimes are as of then). */
  at: number;
  tree: ActorView;
}

export function actorRoutes(actors: () => ActorInfo): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/actors',
      capability: 'hxo:view',
      summary: 'the live supervision tree: {at, tree} with each actor\'s name, kind, state, mailbox, handled, restarts, started_at, uptime_ms, children',
      answers: { 200: '{at, tree}: the tree as of `at` (epoch ms), each actor {name, kind, state, mailbox, handled, restarts, started_at, uptime_ms, children?}' },
      handle: () => ({ body: actorTree(actors(), Date.now()) }),
    },
  ];
}

export function actorTree(root: ActorInfo, at: number): ActorTree {
  const view = (a: ActorInfo): ActorView => {
    const { children, ...rest } = a;
    const uptime = a.started_at === null ? null : Math.max(0, at - a.started_at);
    return { ...rest, uptime_ms: uptime, ...(children ? { children: children.map(view) } : {}) };
  };
  return { at, tree: view(root) };
}
