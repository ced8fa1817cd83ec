/**
 * Footprints and impressions over HTTP (xyn/footprints, seed 004 §5.3): a
 * run's footprint rows with the labels its impression rules gave it, and the
 * node's rows newest first with the per-blueprint rollups of the selection —
 * summed from the daily rollups kept as rows are written, so a rollup over
 * months reads a few entries a day, not every row. Reading needs
 * `xyn:runs:read`, as the runs do.
 *
 *   GET /api/v1/runs/{id}/footprints                       → {items, impressions}
 *   GET /api/v1/footprints?metric=wall_ms&since=2026-12-01  → {items, next_cursor, rollups}
 */
import { z } from 'zod';
import type { FootprintBook } from '../../xyn/footprints/footprint-book.ts';
import { METRIC_PATTERN } from '../../xyn/footprints/records.ts';
import type { RunEngine } from '../../xyn/runs/run-engine.ts';
import { BLUEPRINT_ID, EVENT_ID, RUN_ID } from '../params.ts';
import { route, type Route } from '../router.ts';

const listQuery = z.object({
  metric: z.string().regex(METRIC_PATTERN, { error: 'expected a metric name: lowercase letters, digits, _ and . (at most 64), e.g. wall_ms' }).optional().describe('only rows of this metric'),
  blueprint: z.string().regex(BLUEPRINT_ID.pattern, { error: `expected ${BLUEPRINT_ID.expected}` }).optional().describe('only rows of runs of this blueprint'),
  since: z
    .string()
    .refine((s) => /^\d{4}-\d{2}-\d{2}/.test(s) && !Number.isNaN(Date.parse(s)), { error: 'expected an ISO 8601 date or time, e.g. 2026-12-01 or 2026-12-01T10:00:00Z' })
    .transform((s) => new Date(s).toISOString())
    .optional()
    .describe('only rows recorded at or after it (rollups: from its UTC day on)'),
  cursor: z.string().regex(EVENT_ID.pattern, { error: 'expected a footprint id (the next_cursor of the page before)' }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export function footprintRoutes(runs: RunEngine, book: FootprintBook): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/runs/:id/footprints',
      params: { id: RUN_ID },
      capability: 'xyn:runs:read',
      summary: "a run's footprints, in the order recorded, and the impressions its rules gave it once it ended",
      answers: { 200: '{items, impressions}: footprint rows; impressions [{label, value, rule}] (empty until the run has ended and been judged)', 404: 'no run with that id' },
      handle(req) {
        const runId = runs.get(req.params.id as string).run_id;
        return { body: { items: book.ofRun(runId), impressions: book.impressionsOf(runId)?.impressions ?? [] } };
      },
    },
    route({
      method: 'GET',
      path: '/api/v1/footprints',
      capability: 'xyn:runs:read',
      summary: 'footprints newest first, a page at a time (?metric=&blueprint=&since=&cursor=&limit=), with the rollups of the selection per blueprint and metric',
      query: listQuery,
      answers: { 200: '{items, next_cursor, rollups}: rows; next_cursor null on the last page; rollups [{blueprint_id, metric, unit, sum, count}] over every page of the selection (by whole UTC days from since)' },
      handle(req) {
        const { metric, blueprint, since, cursor, limit } = req.query;
        const filter = { ...(metric ? { metric } : {}), ...(blueprint ? { blueprint_id: blueprint } : {}), ...(since ? { since } : {}) };
        const page = book.list({ ...filter, limit, ...(cursor ? { cursor } : {}) });
        return { body: { items: page.items, next_cursor: page.next_cursor, rollups: book.rollups(filter) } };
      },
    }),
  ];
}
