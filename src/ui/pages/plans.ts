/**
 * The plan pages: the list (`/ui/plans`), a plan (`/ui/plans/:plan_id`: its
 * state, stage progress, ETA, p95 per stage, splits, alerts, certificate,
 * a live chart of shards/s, and the leaf map — every shard one pixel, fed
 * by plan-leaves.ts), its summary partial (polled while it runs) and one
 * shard of the map with its inclusion proof. Every read is the API's
 * (`/api/hxo/...`), in process; only where a slot of the map sits has no
 * API route, and is asked of the engine.
 */
import { z } from 'zod';
import { ApiError } from '../../api/errors.ts';
import { page, type PageRequest, type PageRoute } from '../../api/pages.ts';
import { CAS_ID, PLAN_ID } from '../../api/params.ts';
import type { HxoEngine } from '../../hxo/engine.ts';
import type { PlanReport, PlanStatus } from '../../hxo/report.ts';
import type { PlanSummary } from '../../hxo/plan-list.ts';
import type { ShardPage } from '../../hxo/plan-queries.ts';
import { view } from '../render.ts';
import { noPlans, planLeafPages } from './plan-leaves.ts';

const ENDED = new Set(['certified', 'failed', 'aborted', 'unfinished']);
const listQuery = z.object({ cursor: z.string().optional().describe('the next_cursor of the page before') });
const shardQuery = z.object({ slot: z.coerce.number({ message: 'slot: a shard number of the map, such as 0' }).int().nonnegative() });

interface Alert {
  seq: number;
  occurred_at: string;
  payload: { alert_type?: string; severity?: string; message?: string };
}

/** What the summary shows: the status, and once the plan ended its report. */
async function summaryOf(req: PageRequest, planId: string): Promise<{ status: PlanStatus; report: PlanReport | undefined; ended: boolean }> {
  const status = await req.api.json<PlanStatus>('GET', `/api/hxo/status/${planId}`);
  const ended = ENDED.has(status.state);
  const report = ended && status.state !== 'unfinished' ? await req.api.json<PlanReport>('GET', `/api/hxo/report/${planId}`) : undefined;
  return { status, report, ended };
}

export function planPages(engine: HxoEngine | undefined): PageRoute[] {
  const planId = (req: PageRequest): string => {
    if (!engine) throw noPlans();
    return req.params.plan_id as string;
  };
  return [
    page({
      method: 'GET',
      path: '/ui/plans',
      capability: 'hxo:view',
      summary: "the node's plans: state, shards, progress, started, certified",
      query: listQuery,
      async handle(req) {
        if (!engine) throw noPlans();
        const plans = await req.api.json<{ items: PlanSummary[]; next_cursor: string | null }>('GET', '/api/hxo/plans', { query: { limit: '100', ...(req.query.cursor ? { cursor: req.query.cursor } : {}) } });
        return view(req, 'plans', { plans });
      },
    }),
    page({
      method: 'GET',
      path: '/ui/plans/:plan_id',
      params: { plan_id: PLAN_ID },
      capability: 'hxo:view',
      summary: 'a plan: progress, stages, alerts, certificate, shards/s, and the leaf map',
      async handle(req) {
        const id = planId(req);
        const summary = await summaryOf(req, id);
        const alerts = await req.api.json<{ items: Alert[] }>('GET', '/api/genesis/events', { query: { topic: 'hxo.alert', plan_id: id, limit: '50' } });
        return view(req, 'plan', { ...summary, planId: id, alerts: alerts.items });
      },
    }),
    page({
      method: 'GET',
      path: '/ui/plans/:plan_id/_summary',
      params: { plan_id: PLAN_ID },
      capability: 'hxo:view',
      summary: "a plan's state, stage progress, splits and certificate (partial, polled while it runs)",
      async handle(req) {
        const id = planId(req);
        return view({ ...req, htmx: true }, '_plan-summary', { ...(await summaryOf(req, id)), planId: id }, { fragment: '_plan-summary' });
      },
    }),
    page({
      method: 'GET',
      path: '/ui/plans/:plan_id/shard',
      params: { plan_id: PLAN_ID },
      capability: 'hxo:view',
      summary: 'one shard of the leaf map (?slot=N): its leaf, cas_id, attempts, error, output digest',
      query: shardQuery,
      async handle(req) {
        const id = planId(req);
        const place = await (engine as HxoEngine).slotPlace(id, req.query.slot);
        if (!place) {
          const slots = await (engine as HxoEngine).slotCount(id);
          throw new ApiError(400, 'bad_request', `slot: the map of plan ${id} has no shard #${req.query.slot}: give a number from 0 to ${slots - 1}`);
        }
        const shards = await req.api.json<ShardPage>('GET', `/api/hxo/plans/${id}/shards`, { query: { cursor: String(place.leaf_index), limit: String(place.leaves) } });
        const status = await req.api.json<PlanStatus>('GET', `/api/hxo/status/${id}`);
        return view(req, 'plan-shard', { planId: id, slot: req.query.slot, place, rows: shards.items, certified: status.truth_certified }, { fragment: '_plan-shard' });
      },
    }),
    page({
      method: 'GET',
      path: '/ui/plans/:plan_id/proof/:cas_id',
      params: { plan_id: PLAN_ID, cas_id: CAS_ID },
      capability: 'hxo:view',
      summary: "a done shard's inclusion proof against the plan's root (partial)",
      async handle(req) {
        const id = planId(req);
        const proof = await req.api.json<Record<string, unknown>>('GET', `/api/hxo/proof/${id}/${req.params.cas_id as string}`);
        return view({ ...req, htmx: true }, '_plan-proof', { proof }, { fragment: '_plan-proof' });
      },
    }),
    ...planLeafPages(engine),
  ];
}
