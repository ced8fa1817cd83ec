/**
 * What shards produced (DESIGN.md §6): a plan's outputs in leaf order, as
 * JSON pages or — `Accept: application/x-ndjson` — one JSON line per done
 * shard, streamed from the cursor to the end, a page read only when the
 * client has taken the last (memory stays one page for a million shards);
 * and artifacts (what executors put in the CAS) by sha256, as bytes.
 */
import { z } from 'zod';
import type { HxoEngine } from '../../hxo/engine.ts';
import type { OutputPage } from '../../hxo/plan-outputs.ts';
import type { Cas } from '../../store/cas.ts';
import { notFound } from '../errors.ts';
import { PLAN_ID, SHA256 } from '../params.ts';
import { route, type Route } from '../router.ts';

export const NDJSON = 'application/x-ndjson';

const outputQuery = z.object({
  stage: z.string().min(1).max(128).optional(),
  cursor: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** Outputs per chunk of a stream: one page, about 250 KiB for compute.hash. */
const STREAM_PAGE = 1000;

export function outputRoutes(engine: HxoEngine, cas: Cas): Route[] {
  return [
    route({
      method: 'GET',
      path: '/api/hxo/outputs/:id',
      params: { id: PLAN_ID },
      capability: 'hxo:view',
      summary: "what a plan's done shards produced, in leaf order (?stage=&cursor=&limit=); Accept: application/x-ndjson streams every one from the cursor",
      query: outputQuery,
      answers: {
        200: `{items, next_cursor} pages; with Accept: ${NDJSON}, one JSON line per done shard from the cursor to the end`,
        400: 'an unknown stage',
        404: 'no plan with that id',
        410: "retention collected the plan's checkpoints (code gone)",
      },
      produces: ['application/json', NDJSON],
      async handle(req) {
        const planId = req.params.id as string;
        const q = req.query;
        const stage = q.stage !== undefined ? { stage: q.stage } : {};
        if (!req.accept.includes(NDJSON)) return { body: await engine.outputs(planId, { ...stage, cursor: q.cursor, limit: q.limit }) };
        const pages = await engine.outputPages(planId, { ...stage, cursor: q.cursor, pageSize: STREAM_PAGE });
        return { contentType: NDJSON, chunks: ndjson(pages) };
      },
    }),
    {
      method: 'GET',
      path: '/api/hxo/artifacts/:sha256',
      params: { sha256: SHA256 },
      capability: 'hxo:view',
      summary: "an artifact's bytes by its sha256 (application/octet-stream)",
      answers: { 200: "the artifact's bytes, with Content-Length", 404: 'no artifact with that sha256' },
      produces: ['application/octet-stream'],
      handle(req) {
        const sha = (req.params.sha256 as string).toLowerCase();
        const bytes = cas.get(sha);
        if (!bytes) throw notFound(`no artifact ${sha}`);
        return { contentType: 'application/octet-stream', bytes };
      },
    },
  ];
}

/** Each page as one chunk of JSON lines. */
function* ndjson(pages: Iterable<OutputPage>): Generator<string> {
  for (const page of pages) {
    let chunk = '';
    for (const item of page.items) chunk += JSON.stringify(item) + '\n';
    yield chunk;
  }
}
