/**
 * `hxo.submit`: a workflow step runs an HXO plan on the node's engine — one
 * given inline (`plan`) or a plan file (`file`, against the base directory
 * the runner gives in `ctx.hxo`; its module paths against its own directory,
 * as `xyn run` resolves them) — and waits for its certified report.
 *
 *   await hxoSubmit.execute({ plan, wait: true }, ctx) // { plan_id, merkle_root, total_shards, truth_certified: true, state: 'certified' }
 *
 * Why these choices:
 * - Idempotent: a plan's id is derived from its digest, so submitting the
 *   same plan again joins the live run or returns the stored report; it never
 *   runs twice, and a re-run step gets the same plan_id and merkle_root.
 * - A plan that ends `failed` or `aborted` fails the step (PlanFailedActionError,
 *   not retryable: the same plan ends the same) rather than returning
 *   `truth_certified: false`: later steps would use a root that does not exist.
 * - The run's signal aborting while the step waits aborts the plan too
 *   (recorded as the plan's abort), then the step fails ActionAbortedError —
 *   unless it aborts because the node stops (RunHalted): the plan is halted
 *   with the node and resumes with it, and the step, run again, joins it.
 * - A plan validation refuses is the step's input error, naming the plan's
 *   field (`plan.stages[0].config.total`), never retried.
 * - `wait: false` returns at once with the plan's status as it is then.
 * - No redaction: plans carry no secrets.
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { NonRetryableError } from '../../core/errors.ts';
import { PlanError } from '../../hxo/engine-errors.ts';
import { readPlanFile } from '../../hxo/plan/plan.ts';
import type { PlanReport } from '../../hxo/report.ts';
import { haltedOnly, type Action, type ActionContext } from './action.ts';
export type { HxoActionContext } from './action.ts';
import { ActionAbortedError, ActionInputError, PlanFailedActionError } from './errors.ts';

const NAME = 'hxo.submit';

const input = z
  .strictObject({
    plan: z.record(z.string(), z.unknown()).optional(),
    file: z.string().min(1).optional(),
    memo: z.boolean().optional(),
    wait: z.boolean().default(true),
  })
  .refine((i) => (i.plan === undefined) !== (i.file === undefined), { message: 'give exactly one of plan (an inline plan) or file (a plan file)', path: ['plan'] });

const output = z.object({
  plan_id: z.string(),
  merkle_root: z.string().nullable(),
  total_shards: z.number().int(),
  truth_certified: z.boolean(),
  state: z.string(),
});

export type HxoSubmitInput = z.output<typeof input>;
export type HxoSubmitOutput = z.output<typeof output>;

/** The raw plan, the directory its module paths are resolved against (a file's own, as `xyn run` does), and the `with` field its errors are named under. */
function rawPlan(sub: HxoSubmitInput, baseDir: string): { raw: unknown; dir: string; field: string } {
  if (sub.plan !== undefined) return { raw: sub.plan, dir: baseDir, field: 'plan' };
  const path = resolve(baseDir, sub.file ?? '');
  try {
    return { raw: readPlanFile(path), dir: dirname(path), field: 'file' };
  } catch (err) {
    throw asInputError(err, 'file');
  }
}

function asInputError(err: unknown, field: string): unknown {
  if (!(err instanceof PlanError)) return err;
  const at = field === 'plan' ? `plan.${err.field}` : field;
  const where = field === 'plan' || err.field === 'file' ? '' : ` (${err.field})`;
  return new ActionInputError(`${NAME}: with.${at}${where}: ${err.rule}`, at);
}

/** Why a plan ended without a root: its reason, or its first failed shard's error. */
function whyEnded(report: PlanReport): string | undefined {
  const first = report.failed[0];
  if (report.reason || !first) return report.reason;
  return `${report.failed_shards} of ${report.total_shards} shards failed; first: ${first.stage_id}[${first.shard_index}]: ${first.error}`;
}

/** The step's outputs, when the plan has not ended failed or aborted. */
function outputsOf(planId: string, o: Omit<HxoSubmitOutput, 'plan_id'>, reason?: string): HxoSubmitOutput {
  if (o.state === 'failed' || o.state === 'aborted') throw new PlanFailedActionError(planId, o.state, reason);
  return { plan_id: planId, merkle_root: o.merkle_root, total_shards: o.total_shards, truth_certified: o.truth_certified, state: o.state };
}

async function execute(sub: HxoSubmitInput, ctx: ActionContext): Promise<HxoSubmitOutput> {
  const hxo = ctx.hxo;
  if (!hxo) throw new NonRetryableError(`${NAME}: this node runs no HXO engine: a workflow can submit plans only on a node started with one`, 'NO_HXO_ENGINE');
  if (ctx.signal.aborted) throw new ActionAbortedError(NAME);
  const { raw, dir, field } = rawPlan(sub, hxo.baseDir);
  const submittedBy = hxo.principal ?? `xyn:run:${ctx.runId}`;
  let submitted;
  try {
    const prepared = await hxo.engine.prepare(raw, dir, hxo.capabilities);
    submitted = await hxo.engine.submit(raw, { baseDir: dir, prepared, submittedBy, role: hxo.role, correlationId: ctx.correlationId, memo: sub.memo });
  } catch (err) {
    throw asInputError(err, field);
  }
  const { planId, finished } = submitted;
  if (!sub.wait) return outputsOf(planId, hxo.engine.status(planId));
  let onAbort = (): void => undefined;
  const aborted = new Promise<'aborted'>((done) => {
    onAbort = () => done('aborted');
    if (ctx.signal.aborted) onAbort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
  const report = await Promise.race([finished, aborted]).finally(() => ctx.signal.removeEventListener('abort', onAbort));
  if (report === 'aborted') {
    // A node that stops halts its plans too; they resume with it, and the step (idempotent) joins its plan again then.
    if (haltedOnly(ctx.signal)) throw new ActionAbortedError(NAME);
    hxo.engine.abort(planId, submittedBy, hxo.role);
    // Its abort is recorded (the report stored) before the step says it is aborted.
    await finished.catch(() => undefined);
    throw new ActionAbortedError(NAME);
  }
  return outputsOf(planId, report, whyEnded(report));
}

export const hxoSubmit: Action<HxoSubmitInput, HxoSubmitOutput> = {
  name: NAME,
  input,
  output,
  idempotent: true,
  execute,
};
