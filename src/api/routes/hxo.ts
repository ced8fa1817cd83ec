/**
 * The HXO routes (DESIGN.md §6, seed 001 "API Endpoints"), over the engine.
 * Plans submitted here resolve relative paths (a stage's `config.root`,
 * `modules`) against the node's plan directory (`baseDir`, by default its
 * working directory), and load modules and read files only from under it
 * (plan-modules.ts, plan-inputs.ts).
 */
import { z } from 'zod';
import type { Logger } from '../../kernel/log.ts';
import type { HxoEngine, ReplaySelection } from '../../hxo/engine.ts';
import { NodeStoppingError } from '../../hxo/engine-errors.ts';
import { checkPlanShape, planSchema } from '../../hxo/plan/plan.ts';
import { PLAN_ID_PATTERN } from '../../hxo/plan/plan-id.ts';
import { confineInputs } from '../../hxo/plan/plan-inputs.ts';
import { confineModules, type ModuleRoots } from '../../hxo/plan/plan-modules.ts';
import { conflict, notFound } from '../errors.ts';
import { CAS_ID, PLAN_ID } from '../params.ts';
import { route, type ApiRequest, type Route } from '../router.ts';
import { UNREAD_BODY } from '../validate.ts';

const replayBody = z.union([
  z.strictObject({ failed: z.literal(true) }),
  z.strictObject({ subtree: z.tuple([z.number().int().min(0), z.number().int().min(0)]) }),
  z.strictObject({ verify: z.literal(true).optional() }),
]);

/** Resume takes no options: an empty object. */
const resumeBody = z.strictObject({});

const planQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().regex(PLAN_ID_PATTERN, { error: 'expected a plan id (the next_cursor of the page before)' }).optional().describe('the next_cursor of the page before'),
});

const shardQuery = z.object({
  phase: z.enum(['pending', 'done', 'failed']).optional(),
  cursor: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const NO_PLAN = 'no plan with that id';
const COLLECTED = "retention collected the plan's checkpoints (code gone)";

/** `modules`: where plans submitted here may load job-kind modules from (plan-modules.ts). */
export function hxoRoutes(engine: HxoEngine, log: Logger, baseDir: string, roots: { modules: ModuleRoots; inputs: readonly string[] }): Route[] {
  const id = (req: ApiRequest): string => req.params.id as string;
  return [
    route({
      method: 'POST',
      path: '/api/hxo/create-and-submit',
      capability: 'hxo:submit',
      summary: 'validate a plan and start it; 202 with its plan_id',
      // Its shape first (it names what is wrong before any module is looked for), as `xyn run` refuses it: 422 naming the field.
      body: planSchema,
      checkBody: checkPlanShape,
      answers: {
        202: '{plan_id, plan_name, state, total_shards, status_url, correlation_id}; a plan submitted again is answered as it stands (an aborted one with resume_url and hint)',
        422: 'the plan breaks a rule — of its shape, of its job kinds, where its modules and inputs may be, non-idempotent work without hxo:force-merge (code invalid_plan, details: field, rule)',
        503: "the node's store is full (code storage_full)",
      },
      async handle(req) {
        // Then where its modules are.
        const shaped = req.body;
        confineModules(shaped.modules, roots.modules, baseDir);
        confineInputs(shaped, roots.inputs, baseDir);
        const prepared = await engine.prepare(req.body, baseDir, req.principal.capabilities);
        const submitted = await engine.submit(req.body, { baseDir, prepared, submittedBy: req.principal.id, role: req.principal.role, correlationId: req.correlationId });
        logEnd(log, submitted.finished, 'plan', { plan_id: submitted.planId, correlation_id: req.correlationId });
        const status = engine.status(submitted.planId);
        // The same plan again gets its aborted report back: say how to continue it instead.
        const aborted = status.state === 'aborted' ? resumeHint(submitted.planId) : {};
        return {
          status: 202,
          body: { plan_id: submitted.planId, plan_name: status.plan_name, state: status.state, total_shards: status.total_shards, status_url: `/api/hxo/status/${submitted.planId}`, ...aborted, correlation_id: req.correlationId },
        };
      },
    }),
    {
      method: 'GET',
      path: '/api/hxo/status/:id',
      params: { id: PLAN_ID },
      capability: 'hxo:view',
      summary: "a plan's status: state, shard counts, rate, eta_seconds",
      answers: { 200: "the plan's status", 404: NO_PLAN },
      handle: (req) => ({ body: engine.status(id(req)) }),
    },
    {
      method: 'GET',
      path: '/api/hxo/report/:id',
      params: { id: PLAN_ID },
      capability: 'hxo:view',
      summary: "an ended plan's report: Merkle root, certificate, sample proofs",
      answers: { 200: 'the report', 404: NO_PLAN, 409: 'the plan has not ended' },
      handle: (req) => ({ body: engine.report(id(req)) }),
    },
    {
      method: 'POST',
      path: '/api/hxo/abort/:id',
      params: { id: PLAN_ID },
      capability: 'hxo:abort',
      summary: 'abort a running plan',
      body: UNREAD_BODY,
      answers: { 202: '{plan_id, aborting: true}', 409: 'the plan is not running' },
      handle(req) {
        if (!engine.abort(id(req), req.principal.id, req.principal.role)) throw conflict(`plan ${id(req)} is not running`);
        return { status: 202, body: { plan_id: id(req), aborting: true } };
      },
    },
    route({
      method: 'POST',
      path: '/api/hxo/replay/:id',
      params: { id: PLAN_ID },
      capability: 'hxo:replay',
      summary: 'run shards of an ended plan again: {failed: true} | {subtree: [i, j]} | {} (check and repair)',
      body: replayBody,
      answers: { 202: '{plan_id, replaying}: the shards replayed', 404: NO_PLAN, 410: COLLECTED, 422: 'the plan is running, or the subtree is not a range of its leaves (code invalid_plan, details.field)' },
      async handle(req) {
        const body = req.body;
        const selection: ReplaySelection = 'failed' in body ? { failed: true } : 'subtree' in body ? { subtree: body.subtree } : { verify: true };
        const replay = await engine.replay(id(req), selection, { by: req.principal.id, role: req.principal.role });
        logEnd(log, replay.finished, 'replay', { plan_id: id(req) });
        return { status: 202, body: { plan_id: id(req), replaying: replay.replaying } };
      },
    }),
    {
      // hxo:submit, not hxo:replay: resume runs only shards that never ended — what submitting an
      // unfinished plan again does — and discards no result, as replay does.
      method: 'POST',
      path: '/api/hxo/resume/:id',
      params: { id: PLAN_ID },
      capability: 'hxo:submit',
      summary: 'continue an aborted or unfinished plan from its checkpoints and certify it; 202',
      body: resumeBody,
      answers: {
        202: '{plan_id, plan_name, state, total_shards, done_shards, status_url, correlation_id}',
        404: NO_PLAN,
        409: 'the plan runs, is certified, failed (replay it instead) or changed since it started',
        410: COLLECTED,
      },
      async handle(req) {
        const resumed = await engine.resume(id(req), { by: req.principal.id, role: req.principal.role, correlationId: req.correlationId, capabilities: req.principal.capabilities });
        logEnd(log, resumed.finished, 'resumed plan', { plan_id: resumed.planId, correlation_id: req.correlationId });
        const status = engine.status(resumed.planId);
        return {
          status: 202,
          body: { plan_id: resumed.planId, plan_name: status.plan_name, state: status.state, total_shards: status.total_shards, done_shards: status.done_shards, status_url: `/api/hxo/status/${resumed.planId}`, correlation_id: req.correlationId },
        };
      },
    },
    route({
      method: 'GET',
      path: '/api/hxo/plans',
      capability: 'hxo:view',
      summary: "this node's plans, by plan id (?limit=&cursor=): state, shard counts, created and finished",
      query: planQuery,
      answers: { 200: '{items, next_cursor}: next_cursor is null at the end' },
      handle(req) {
        const { limit, cursor } = req.query;
        const after = engine.summaries().filter((p) => cursor === undefined || p.plan_id > cursor);
        const items = after.slice(0, limit);
        return { body: { items, next_cursor: after.length > limit ? (items.at(-1)?.plan_id ?? null) : null } };
      },
    }),
    {
      // hxo:plan (admirals): collecting a plan's data is managing plans; its report stays.
      method: 'DELETE',
      path: '/api/hxo/plans/:id',
      params: { id: PLAN_ID },
      capability: 'hxo:plan',
      summary: "collect an ended plan's checkpoints, outputs and the artifacts only it refers to now (retention does it on a schedule); its report stays",
      answers: { 200: 'what was freed', 404: NO_PLAN, 409: 'the plan runs, or running plans reuse its outputs', 410: 'collected already' },
      async handle(req) {
        return { body: await engine.retention.collect(id(req), { by: req.principal.id, role: req.principal.role }) };
      },
    },
    route({
      method: 'GET',
      path: '/api/hxo/plans/:id/shards',
      params: { id: PLAN_ID },
      capability: 'hxo:view',
      summary: "a page of a plan's shards in leaf order (?phase=pending|done|failed&cursor=&limit=)",
      query: shardQuery,
      answers: { 200: '{items, next_cursor}', 404: NO_PLAN, 410: COLLECTED },
      async handle(req) {
        return { body: await engine.shards(id(req), req.query) };
      },
    }),
    {
      method: 'GET',
      path: '/api/hxo/proof/:id/:cas_id',
      params: { id: PLAN_ID, cas_id: CAS_ID },
      capability: 'hxo:view',
      summary: "a done shard's inclusion proof against the plan's root",
      answers: { 200: '{leaf_cas_id, leaf_index, tree_size, output_digest, leaf_hash, path, root_hash}', 404: 'no such plan, or no done shard with that cas_id', 410: COLLECTED },
      async handle(req) {
        const casId = req.params.cas_id as string;
        const proof = await engine.proof(id(req), casId);
        if (!proof) throw notFound(`plan ${id(req)} has no done shard ${casId}`);
        return { body: proof };
      },
    },
  ];
}

/** How an aborted plan is continued, for the answer to submitting it again. */
function resumeHint(planId: string): { resume_url: string; hint: string } {
  const resumeUrl = `/api/hxo/resume/${planId}`;
  return { resume_url: resumeUrl, hint: `plan ${planId} was aborted; continue it with POST ${resumeUrl} (\`xyn resume ${planId}\`)` };
}

/**
 * Says how a run the API started ended, if not with its report: a plan the
 * node's stop left unfinished is no error (it resumes when the node starts
 * again), anything else is.
 */
function logEnd(log: Logger, finished: Promise<unknown>, what: string, fields: Record<string, string>): void {
  finished.catch((err: unknown) => {
    if (err instanceof NodeStoppingError) log.info({ ...fields, ...err.details }, `${what} left unfinished: the node stopped (it resumes when the node starts again)`);
    else log.error({ err, ...fields }, `${what} ended in error`);
  });
}
