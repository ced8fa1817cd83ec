/**
 * The runs pages (seed 004 §44.1, §44.4): the list (status filter, cursor
 * paging; `/ui/runs/_list` is its htmx partial), a run (its facts, steps,
 * footprints and artifacts; `/ui/runs/:run_id/_status` refreshed while it
 * has not ended), a step, and the actions a run page offers — approve or
 * reject the gate it waits at, cancel it. Every read and action is the
 * API's own route, called in process as the page's principal: a viewer who
 * posts an approve gets the API's 403. The launcher is in run-launcher.ts.
 */
import { z } from 'zod';
import { page, type PageRequest, type PageRoute } from '../../api/pages.ts';
import { RUN_ID, STEP_ID } from '../../api/params.ts';
import { ENDED_RUN, RUN_STATUSES, type RunStatus } from '../../xyn/runs/records.ts';
import { FORMAT, view } from '../render.ts';

/** A run as `GET /api/v1/runs/:id` answers it (the fields the pages show). */
export interface RunView {
  run_id: string;
  name: string;
  status: RunStatus;
  blueprint_id: string;
  blueprint_version: number;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  waiting_on: string | null;
  [field: string]: unknown;
}

interface StepView {
  step_id: string;
  kind: string;
  status: string;
  started_at: string | null;
  completed_at: string | null;
  logs_artifact_id: string | null;
  [field: string]: unknown;
}

interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

const ID_PARAMS = { run_id: RUN_ID };
const STEP_PARAMS = { run_id: RUN_ID, step_id: STEP_ID };

/** The list's query, handed to `GET /api/v1/runs` as it is: the API checks it and names what is wrong. */
const listQuery = z.object({ status: z.string().optional(), cursor: z.string().optional(), limit: z.string().optional() });
const reasonForm = z.object({ reason: z.string().default('') });

/** How long a run took, or has been going (ms); undefined before it started. */
export function runDuration(run: Pick<RunView, 'started_at' | 'completed_at'>, now = Date.now()): number | undefined {
  if (!run.started_at) return undefined;
  return (run.completed_at ? Date.parse(run.completed_at) : now) - Date.parse(run.started_at);
}

const runPath = (runId: string) => `/api/v1/runs/${runId}`;

async function listRuns(req: PageRequest<unknown, z.output<typeof listQuery>>) {
  const { status, cursor, limit } = req.query;
  const runs = await req.api.json<Page<RunView>>('GET', '/api/v1/runs', { query: { status, cursor, limit } });
  return { runs, filter: { status: status ?? '', limit: limit ?? '' }, cursor: cursor ?? '', runDuration, statuses: RUN_STATUSES };
}

/** What the status partial shows: the run and its steps. */
async function runStatus(req: PageRequest) {
  const runId = req.params.run_id as string;
  const [run, steps] = await Promise.all([req.api.json<RunView>('GET', runPath(runId)), req.api.json<Page<StepView>>('GET', `${runPath(runId)}/steps`)]);
  return { run, steps: steps.items, ended: ENDED_RUN.has(run.status), duration: runDuration(run), runDuration };
}

async function runArtifacts(req: PageRequest) {
  return { artifacts: await req.api.json<Page<Record<string, unknown>>>('GET', '/api/v1/artifacts', { query: { run_id: req.params.run_id, limit: 100 } }) };
}

/** A POST that calls one of the run's API actions with the form's reason, then shows the run. */
function runAction(path: string, capability: 'xyn:runs:write' | 'xyn:runs:approve', summary: string, apiPath: (p: Record<string, string>) => string): PageRoute {
  return page({
    method: 'POST',
    path,
    params: path.includes(':step_id') ? STEP_PARAMS : ID_PARAMS,
    capability,
    summary,
    form: reasonForm,
    async handle(req) {
      const reason = req.form.reason.trim();
      await req.api.call('POST', apiPath(req.params), { body: reason === '' ? {} : { reason } });
      return { redirect: `/ui/runs/${req.params.run_id as string}` };
    },
  });
}

export function runPages(): PageRoute[] {
  return [
    page({
      method: 'GET',
      path: '/ui/runs',
      capability: 'xyn:runs:read',
      summary: 'the runs, newest first, filtered by status, a page at a time',
      query: listQuery,
      async handle(req) {
        return view(req, 'runs', await listRuns(req));
      },
    }),
    page({
      method: 'GET',
      path: '/ui/runs/_list',
      capability: 'xyn:runs:read',
      summary: 'the runs list (partial: filter changes and paging)',
      query: listQuery,
      async handle(req) {
        const data = await listRuns(req);
        // The address bar follows the filter and the page, so a reload or a shared link shows the same runs.
        const shown = `/ui/runs${FORMAT.query({ ...data.filter, cursor: data.cursor })}`;
        return { ...view({ ...req, htmx: true }, '_run-list', data, { fragment: '_run-list' }), headers: { 'HX-Push-Url': shown } };
      },
    }),
    page({
      method: 'GET',
      path: '/ui/runs/:run_id',
      params: ID_PARAMS,
      capability: 'xyn:runs:read',
      summary: 'a run: its facts, steps, footprints and artifacts; approve, reject, cancel',
      async handle(req) {
        const [status, footprints, artifacts] = await Promise.all([runStatus(req), req.api.json('GET', `${runPath(req.params.run_id as string)}/footprints`), runArtifacts(req)]);
        return view(req, 'run', { ...status, footprints, ...artifacts });
      },
    }),
    page({
      method: 'GET',
      path: '/ui/runs/:run_id/_status',
      params: ID_PARAMS,
      capability: 'xyn:runs:read',
      summary: "a run's status and steps (partial, refreshed while the run has not ended)",
      async handle(req) {
        const status = await runStatus(req);
        const html = view({ ...req, htmx: true }, '_run-status', status, { fragment: '_run-status' });
        // The last refresh (the run has ended) tells the page, which then loads the run's artifacts again: its steps' logs are among them now.
        return status.ended ? { ...html, headers: { 'HX-Trigger': 'run-ended' } } : html;
      },
    }),
    page({
      method: 'GET',
      path: '/ui/runs/:run_id/artifacts',
      params: ID_PARAMS,
      capability: 'xyn:runs:read',
      summary: "a run's artifacts (partial)",
      async handle(req) {
        return view({ ...req, htmx: true }, '_run-artifacts', await runArtifacts(req), { fragment: '_run-artifacts' });
      },
    }),
    page({
      method: 'GET',
      path: '/ui/runs/:run_id/steps/:step_id',
      params: STEP_PARAMS,
      capability: 'xyn:runs:read',
      summary: 'a step of a run: status, timing, attempts, inputs, outputs, error, its log',
      async handle(req) {
        const { run_id: runId, step_id: stepId } = req.params as { run_id: string; step_id: string };
        const [run, step] = await Promise.all([req.api.json<RunView>('GET', runPath(runId)), req.api.json<StepView>('GET', `${runPath(runId)}/steps/${stepId}`)]);
        return view(req, 'run-step', { run, step, duration: runDuration(step) });
      },
    }),
    runAction('/ui/runs/:run_id/cancel', 'xyn:runs:write', 'cancel a run that has not ended', (p) => `${runPath(p.run_id as string)}/cancel`),
    runAction('/ui/runs/:run_id/steps/:step_id/approve', 'xyn:runs:approve', 'approve the gate a run waits at', (p) => `${runPath(p.run_id as string)}/steps/${p.step_id as string}/approve`),
    runAction('/ui/runs/:run_id/steps/:step_id/reject', 'xyn:runs:approve', 'reject the gate a run waits at', (p) => `${runPath(p.run_id as string)}/steps/${p.step_id as string}/reject`),
  ];
}
