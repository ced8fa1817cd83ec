/**
 * Workflow runs over HTTP (xyn/runs, seed 004 §45.4): start a run of a
 * promoted blueprint by hand, read runs and their steps, cancel a run,
 * approve or reject the gate a run waits at, and webhooks — a POST to
 * `/api/v1/hooks/{name}` publishes `xyn.hook.<name>`, which starts the runs
 * of the blueprints whose trigger matches it (the event router).
 *
 * Reading needs `xyn:runs:read`; starting and cancelling `xyn:runs:write`;
 * a gate's decision `xyn:runs:approve`; a hook `xyn:events:emit`. Each
 * change to a run is audited with who and why (`run.create`, `run.cancel`,
 * `gate.approve`, `gate.reject`); a hook's event names its actor.
 *
 *   POST /api/v1/runs {"blueprint_ref": "ops.restart@2", "inputs": {"host": "web-1"}}   → 201 the run
 *   POST /api/v1/runs/{id}/steps/ok/approve {"reason": "checked the diff"}           → the gate step
 */
import { z } from 'zod';
import type { Bus } from '../../kernel/bus.ts';
import type { StoreSpace } from '../../store/space.ts';
import { publishAudit } from '../../kernel/audit.ts';
import { RUN_STATUSES, runDto, stepDto } from '../../xyn/runs/records.ts';
import type { RunEngine } from '../../xyn/runs/run-engine.ts';
import { ApiError, badRequest } from '../errors.ts';
import { BLUEPRINT_ID, HOOK_NAME, HOOK_PREFIX, RUN_ID, STEP_ID } from '../params.ts';
import { route, type ApiRequest, type Route } from '../router.ts';

const REASON_MAX = 2000;
const NO_RUN = 'no run with that id';
const NO_STEP = 'no run with that id, or the run has no such step';

/** `<blueprint_id>` or `<blueprint_id>@<version>`. */
const BLUEPRINT_REF = new RegExp(`^(${BLUEPRINT_ID.pattern.source.slice(1, -1)})(?:@([1-9][0-9]{0,14}))?$`);
const REF_EXPECTED = `<blueprint_id> or <blueprint_id>@<version> (${BLUEPRINT_ID.expected}; a version is a whole number from 1)`;

const createBody = z.strictObject({
  blueprint_ref: z.string().regex(BLUEPRINT_REF, { error: `expected ${REF_EXPECTED}` }).describe('the blueprint to run: its id (its active version) or id@version'),
  name: z.string().min(1).max(200).optional().describe("default: the blueprint's name"),
  inputs: z.record(z.string(), z.unknown()).optional().describe("the run's inputs, checked against the blueprint's"),
  priority: z.number().int().min(-1_000_000).max(1_000_000).optional().describe('higher starts first when runs wait for a slot (default 0)'),
});

const reasonBody = z.strictObject({ reason: z.string().max(REASON_MAX).optional().describe("why: on the audit trail, and with the step it decides or stops (a gate's decision, a cancelled step's error)") });

const listQuery = z.object({
  status: z.enum(RUN_STATUSES, { error: `expected one of ${RUN_STATUSES.join(', ')}` }).optional().describe('only runs in this status'),
  blueprint: z.string().regex(BLUEPRINT_ID.pattern, { error: `expected ${BLUEPRINT_ID.expected}` }).optional().describe('only runs of this blueprint'),
  cursor: z.string().regex(RUN_ID.pattern, { error: 'expected a run id (the next_cursor of the page before)' }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const hookBody = z.record(z.string(), z.unknown()).describe("any JSON object: the event's data");

/** Parses a blueprint_ref the body schema has already checked. */
function parseRef(ref: string): { blueprint_id: string; version?: number } {
  const m = BLUEPRINT_REF.exec(ref) as RegExpExecArray;
  return { blueprint_id: m[1] as string, ...(m[2] !== undefined ? { version: Number(m[2]) } : {}) };
}

export function runRoutes(runs: RunEngine, bus: Bus, space: StoreSpace): Route[] {
  const runId = (req: ApiRequest): string => req.params.id as string;
  const stepId = (req: ApiRequest): string => req.params.step_id as string;
  const audit = (req: ApiRequest, operation: string, details: Record<string, unknown>) =>
    publishAudit(bus, { user: req.principal.id, role: req.principal.role, operation, details }, { correlation_id: req.correlationId });

  const decide = (decision: 'approved' | 'rejected', verb: 'approve' | 'reject') =>
    route({
      method: 'POST',
      path: `/api/v1/runs/:id/steps/:step_id/${verb}`,
      params: { id: RUN_ID, step_id: STEP_ID },
      capability: 'xyn:runs:approve',
      summary: `${verb} the gate a run waits at: the run goes on${decision === 'rejected' ? ' to fail (GATE_REJECTED)' : ''}; who and why are kept with the step`,
      body: reasonBody,
      answers: { 200: 'the gate step, decided', 404: NO_STEP, 409: 'the step is not a gate, or not waiting for a decision (not reached yet, decided, or the run has ended)' },
      async handle(req) {
        const reason = req.body.reason ?? null;
        const step = await runs.decide(runId(req), stepId(req), decision, req.principal.id, reason);
        await audit(req, `gate.${verb}`, { run_id: runId(req), step_id: stepId(req), reason });
        return { body: stepDto(step) };
      },
    });

  return [
    route({
      method: 'POST',
      path: '/api/v1/runs',
      capability: 'xyn:runs:write',
      summary: 'start a run of a promoted blueprint (its active version, or id@version), by hand',
      body: createBody,
      answers: {
        201: 'the run (status created; it starts when a slot is free)',
        400: 'the inputs do not fit the blueprint (code invalid_inputs, details.issues naming each)',
        404: 'no promoted blueprint with that id, or no such version',
      },
      async handle(req) {
        const { blueprint_ref, name, inputs, priority } = req.body;
        const run = await runs.create({
          ...parseRef(blueprint_ref),
          ...(name !== undefined ? { name } : {}),
          ...(inputs !== undefined ? { inputs } : {}),
          ...(priority !== undefined ? { priority } : {}),
          actor: req.principal.id,
          correlation_id: req.correlationId,
          trigger: { kind: 'manual' },
        });
        await audit(req, 'run.create', { run_id: run.run_id, blueprint_id: run.blueprint_id, blueprint_version: run.blueprint_version });
        return { status: 201, body: runDto(run) };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/runs',
      capability: 'xyn:runs:read',
      summary: 'the runs, newest first, a page at a time (?status=&blueprint=&cursor=&limit=)',
      query: listQuery,
      answers: { 200: '{items, next_cursor}: runs; next_cursor null on the last page' },
      handle(req) {
        const { status, blueprint, cursor, limit } = req.query;
        const page = runs.list({ limit, ...(status ? { status } : {}), ...(blueprint ? { blueprint_id: blueprint } : {}), ...(cursor ? { cursor } : {}) });
        return { body: { items: page.items.map(runDto), next_cursor: page.next_cursor } };
      },
    }),
    {
      method: 'GET',
      path: '/api/v1/runs/:id',
      params: { id: RUN_ID },
      capability: 'xyn:runs:read',
      summary: 'a run: its status, inputs, outputs, error and the gate it waits at',
      answers: { 200: 'the run', 404: NO_RUN },
      handle: (req) => ({ body: runDto(runs.get(runId(req))) }),
    },
    {
      method: 'GET',
      path: '/api/v1/runs/:id/steps',
      params: { id: RUN_ID },
      capability: 'xyn:runs:read',
      summary: "a run's steps, in plan order",
      answers: { 200: '{items}: the steps', 404: NO_RUN },
      handle: (req) => ({ body: { items: runs.steps(runId(req)).map(stepDto) } }),
    },
    {
      method: 'GET',
      path: '/api/v1/runs/:id/steps/:step_id',
      params: { id: RUN_ID, step_id: STEP_ID },
      capability: 'xyn:runs:read',
      summary: "one step of a run, by the blueprint step's id",
      answers: { 200: 'the step', 404: NO_STEP },
      handle: (req) => ({ body: stepDto(runs.step(runId(req), stepId(req))) }),
    },
    route({
      method: 'POST',
      path: '/api/v1/runs/:id/cancel',
      params: { id: RUN_ID },
      capability: 'xyn:runs:write',
      summary: 'cancel a run that has not ended: a waiting gate or a running action stops',
      body: reasonBody,
      answers: { 200: 'the run, as it stands after the cancel', 404: NO_RUN, 409: 'the run has already ended' },
      async handle(req) {
        const reason = req.body.reason ?? null;
        const run = await runs.cancel(runId(req), req.principal.id, reason);
        await audit(req, 'run.cancel', { run_id: runId(req), reason });
        return { body: runDto(run) };
      },
    }),
    decide('approved', 'approve'),
    decide('rejected', 'reject'),
    route({
      method: 'POST',
      path: '/api/v1/hooks/:name',
      params: { name: HOOK_NAME },
      capability: 'xyn:events:emit',
      summary: `a webhook: publishes the event ${HOOK_PREFIX}<name> with the JSON object as its data; blueprints triggered by it start runs`,
      body: hookBody,
      checkBody(raw) {
        const parsed = hookBody.safeParse(raw);
        if (!parsed.success) throw badRequest('body: expected a JSON object (the event\'s data)', { field: 'body' });
        return parsed.data;
      },
      answers: {
        202: '{event_name, seq, event_id, correlation_id}: the event published; runs it triggers start on their own',
        503: "the node's store is full (code storage_full): send it again once there is room",
      },
      async handle(req) {
        // As POST /api/v1/events: while the disk is full a caller is told now, not kept waiting for room.
        const full = space.condition;
        if (full) throw new ApiError(503, 'storage_full', `the node's store at ${full.path} is full (${full.reason}): hooks are not taken until space is freed there; send it again then`, { path: full.path, free_bytes: full.free_bytes });
        const name = `${HOOK_PREFIX}${req.params.name as string}`;
        const event = await bus.publish(name, req.body, { actor: req.principal.id, correlation_id: req.correlationId });
        return { status: 202, body: { event_name: event.event_name, seq: event.seq, event_id: event.event_id, correlation_id: event.correlation_id } };
      },
    }),
  ];
}
