/**
 * The leaf map's frames (`GET /ui/plans/:plan_id/_leaves?since=VERSION`):
 * the state of every shard of a plan, 2 bits each, as the binary frame
 * src/hxo/leaves/leaf-frame.ts describes — the whole map first, then only
 * what changed since the version the page holds. The node keeps each
 * watched plan's map in memory (the engine's `leafStates`), so a request
 * reads no checkpoint; there is no API route for it (it is the page's own
 * wire format), so it asks the engine directly, behind the same capability
 * as the plan's status.
 */
import { z } from 'zod';
import { ApiError } from '../../api/errors.ts';
import { page, type PageRoute } from '../../api/pages.ts';
import { PLAN_ID } from '../../api/params.ts';
import type { HxoEngine } from '../../hxo/engine.ts';

const leavesQuery = z.object({
  since: z.coerce.number({ message: 'since: the version of the last frame (a whole number), or leave it out for the whole map' }).int().nonnegative().optional().describe('the version of the map the page holds (the last frame\'s); absent: the whole map'),
});

export function planLeafPages(engine: HxoEngine | undefined): PageRoute[] {
  return [
    page({
      method: 'GET',
      path: '/ui/plans/:plan_id/_leaves',
      params: { plan_id: PLAN_ID },
      capability: 'hxo:view',
      summary: "a plan's leaf map as a binary frame: whole, or the shards changed since ?since=VERSION",
      query: leavesQuery,
      async handle(req) {
        if (!engine) throw noPlans();
        const states = await engine.leafStates(req.params.plan_id as string);
        return { status: 200, contentType: 'application/octet-stream', bytes: Buffer.from(states.frame(req.query.since)), headers: { 'Cache-Control': 'no-store' } };
      },
    }),
  ];
}

/** The node runs no plans (HXO_ENABLED=false). */
export function noPlans(): ApiError {
  return new ApiError(404, 'not_found', 'this node runs no plans (HXO_ENABLED=false): start it with HXO enabled to see plans');
}
