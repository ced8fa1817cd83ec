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
import { checkPlanShape } from '../../hxo/plan.ts';
import { PLAN_ID_PATTERN } from '../../hxo/plan-id.ts';
import { confineInputs } from '../../hxo/plan-inputs.ts';
import { confineModules, type ModuleRoots } from '../../hxo/plan-modules.ts';
import { conflict, notFound } from '../errors.ts';
import { CAS_ID, PLAN_ID } from '../params.ts';
import type { ApiRequest, Route } from '../router.ts';
import { parseInput, parseQuery } from '../validate.ts';

const replayBody = z.union([
  z.strictObject({ failed: z.literal(true) }),
  z.strictObject({ subtree: z.tuple([z.number().int().min(0), z.number().int().min(0)]) }),
  z.strictObject({ verify: z.literal(true).optional() }),
]);

/** Resume takes no options: an empty object. */
const resumeBody = z.strictObject({});

const planQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().regex(PLAN_ID_PATTERN, { error: 'expected a plan id (the next_cursor of the page before)' }).optional(),
});

const shardQuery = z.object({
  phase: z.enum(['pending', 'done', 'failed']).optional(),
  cursor: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** `modules`: where plans submitted here may load job-kind modules from (plan-modules.ts). */
export function hxoRoutes(engine: HxoEngine, log: Logger, baseDir: string, roots: { modules: ModuleRoots; inputs: readonly string[] }): Route[] {
  const id = (req: ApiRequest): string => req.params.id as string;
  return [
    {
      method: 'POST',
      path: '/api/hxo/create-and-submit',
      capability: 'hxo:submit',
      summary: 'validate a plan and start it; 202 with its plan_id',
      async handle(req) {
        // Its shape first (it names what is wrong before any module is looked for), then where its modules are.
        const shaped = checkPlanShape(req.body);
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
    },
    {
      method: 'GET',
      path: '/api/hxo/status/:id',
      params: { id: PLAN_ID },
      capability: 'hxo:view',
      summary: "a plan's status: state, shard counts, rate, eta_seconds",
      handle: (req) => ({ body: engine.status(id(req)) }),
    },
    {
      method: 'GET',
      path: '/api/hxo/report/:id',
      params: { id: PLAN_ID },
      capability: 'hxo:view',
      summary: "an ended plan's report: Merkle root, certificate, sample proofs",
      handle: (req) => ({ body: engine.report(id(req)) }),
    },
    {
      method: 'POST',
      path: '/api/hxo/abort/:id',
      params: { id: PLAN_ID },
      capability: 'hxo:abort',
      summary: 'abort a running plan',
      handle(req) {
        if (!engine.abort(id(req), req.principal.id, req.principal.role)) throw conflict(`plan ${id(req)} is not running`);
        return { status: 202, body: { plan_id: id(req), aborting: true } };
      },
    },
    {
      method: 'POST',
      path: '/api/hxo/replay/:id',
      params: { id: PLAN_ID },
      capability: 'hxo:replay',
      summary: 'run shards of an ended plan again: {failed: true} | {subtree: [i, j]} | {} (check and repair)',
      async handle(req) {
        const body = parseInput(replayBody, req.body);
        const selection: ReplaySelection = 'failed' in body ? { failed: true } : 'subtree' in body ? { subtree: body.subtree } : { verify: true };
        const replay = await engine.replay(id(req), selection, { by: req.principal.id, role: req.principal.role });
        logEnd(log, replay.finished, 'replay', { plan_id: id(req) });
        return { status: 202, body: { plan_id: id(req), replaying: replay.replaying } };
      },
    },
    {
      // hxo:submit, not hxo:replay: resume runs only shards that never ended — what submitting an
      // unfinished plan again does — and discards no result, as replay does.
      method: 'POST',
      path: '/api/hxo/resume/:id',
      params: { id: PLAN_ID },
      capability: 'hxo:submit',
      summary: 'continue an aborted or unfinished plan from its checkpoints and certify it; 202',
      async handle(req) {
        parseInput(resumeBody, req.body);
        const resumed = await engine.resume(id(req), { by: req.principal.id, role: req.principal.role, correlationId: req.correlationId, capabilities: req.principal.capabilities });
        logEnd(log, resumed.finished, 'resumed plan', { plan_id: resumed.planId, correlation_id: req.correlationId });
        const status = engine.status(resumed.planId);
        return {
          status: 202,
          body: { plan_id: resumed.planId, plan_name: status.plan_name, state: status.state, total_shards: status.total_shards, done_shards: status.done_shards, status_url: `/api/hxo/status/${resumed.planId}`, correlation_id: req.correlationId },
        };
      },
    },
    {
      method: 'GET',
      path: '/api/hxo/plans',
      capability: 'hxo:view',
      summary: "this node's plans, by plan id (?limit=&cursor=): state, shard counts, created and finished",
      handle(req) {
        const { limit, cursor } = parseQuery(planQuery, req);
        const after = engine.summaries().filter((p) => cursor === undefined || p.plan_id > cursor);
        const items = after.slice(0, limit);
        return { body: { items, next_cursor: after.length > limit ? (items.at(-1)?.plan_id ?? null) : null } };
      },
    },
    {
      // hxo:plan (admirals): collecting a plan's data is managing plans; its report stays.
      method: 'DELETE',
      path: '/api/hxo/plans/:id',
      params: { id: PLAN_ID },
      capability: 'hxo:plan',
      summary: "collect an ended plan's checkpoints, outputs and the artifacts only it refers to now (retention does it on a schedule); its report stays",
      async handle(req) {
        return { body: await engine.retention.collect(id(req), { by: req.principal.id, role: req.principal.role }) };
      },
    },
    {
      method: 'GET',
      path: '/api/hxo/plans/:id/shards',
      params: { id: PLAN_ID },
      capability: 'hxo:view',
      summary: "a page of a plan's shards in leaf order (?phase=pending|done|failed&cursor=&limit=)",
      async handle(req) {
        const q = parseQuery(shardQuery, req);
        return { body: await engine.shards(id(req), q) };
      },
    },
    {
      method: 'GET',
      path: '/api/hxo/proof/:id/:cas_id',
      params: { id: PLAN_ID, cas_id: CAS_ID },
      capability: 'hxo:view',
      summary: "a done shard's inclusion proof against the plan's root",
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
