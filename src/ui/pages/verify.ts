/**
 * Verifying a plan report in the browser (`/ui/verify`): a page anyone may
 * open, signed in or not, that checks a report file (chosen, dropped or
 * pasted) in a Web Worker with report-checks.ts — the code `xyn verify`
 * runs — and sends nothing to the node. `?plan=ID` verifies that plan's
 * report, fetched from this node as `/ui/plans/ID/report.json` (a download
 * of `GET /api/hxo/report/:id`, so it needs hxo:view).
 */
import { z } from 'zod';
import { page, type PageRoute } from '../../api/pages.ts';
import { PLAN_ID } from '../../api/params.ts';
import { PLAN_ID_PATTERN, PLAN_ID_SHAPE } from '../../hxo/plan/plan-id.ts';
import { view } from '../render.ts';

const verifyQuery = z.object({
  plan: z.string().regex(PLAN_ID_PATTERN, { error: `expected a plan id (${PLAN_ID_SHAPE}), as the plan list shows it` }).optional(),
});

/** Where the page fetches a plan's report from. */
function reportPath(planId: string): string {
  return `/ui/plans/${encodeURIComponent(planId)}/report.json`;
}

export function verifyPages(): PageRoute[] {
  return [
    page({
      method: 'GET',
      path: '/ui/verify',
      capability: 'public',
      summary: 'verify a plan report in the browser: its certificate signature and every sample proof',
      query: verifyQuery,
      handle(req) {
        const plan = req.query.plan;
        // A file needs no session; a plan's report is the node's, and only a signed-in principal may fetch it.
        if (plan !== undefined && req.principal.id === 'anonymous') return { redirect: `/ui/login?next=${encodeURIComponent(req.url)}` };
        return view(req, 'verify', { plan, reportUrl: plan === undefined ? '' : reportPath(plan) });
      },
    }),
    page({
      method: 'GET',
      path: '/ui/plans/:plan_id/report.json',
      params: { plan_id: PLAN_ID },
      capability: 'hxo:view',
      summary: "an ended plan's report as a JSON file, as GET /api/hxo/report/:id answers it",
      async handle(req) {
        const planId = req.params.plan_id as string;
        const report = await req.api.json<unknown>('GET', `/api/hxo/report/${encodeURIComponent(planId)}`);
        return {
          contentType: 'application/json; charset=utf-8',
          bytes: Buffer.from(`${JSON.stringify(report, null, 2)}\n`),
          headers: { 'Content-Disposition': `attachment; filename="report-${planId}.json"`, 'Cache-Control': 'no-store' },
        };
      },
    }),
  ];
}
