/** hxo.submit against a real kernel and HXO engine: certified roots, idempotence, plan files, refused plans, aborts and failures. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRetryable } from '../../../src/core/errors.ts';
import { ActionAbortedError, ActionInputError, PlanFailedActionError, hxoSubmit, parseActionInput, type ActionContext } from '../../../src/xyn/actions/index.ts';
import { FLAKY_KIND, computeHashPlan, flakyPlan, planEvents, specComputeHashRoot, startNode, waitForEvent, type TestNode } from '../../hxo/helpers.ts';
import { waitFor } from '../../kernel/helpers.ts';
import { actionContext, refusedField } from './helpers.ts';

let n: TestNode;
beforeAll(async () => {
  n = await startNode();
});
afterAll(() => n.close());

function ctx(signal?: AbortSignal): ActionContext {
  return { ...actionContext(n.kernel.bus, signal), hxo: { engine: n.engine, baseDir: n.dir } };
}

const run = (raw: unknown, c: ActionContext = ctx()) => hxoSubmit.execute(parseActionInput(hxoSubmit, raw), c);
const failure = (p: Promise<unknown>) => p.then(() => expect.fail('the action succeeded'), (err: unknown) => err);

describe('hxo.submit', () => {
  it('runs an inline plan to its certified root; the same step again gives the same plan without running it twice', async () => {
    const out = await run({ plan: computeHashPlan('wf-hash', 5) });
    expect(hxoSubmit.output.parse(out)).toEqual(out);
    expect(out).toMatchObject({ merkle_root: specComputeHashRoot(5), total_shards: 5, truth_certified: true, state: 'certified' });
    const plan = planEvents(n.kernel, 'hxo.plan', out.plan_id);
    expect(plan).toHaveLength(1);
    expect(plan[0]).toMatchObject({ correlation_id: 'corr-1', actor: 'xyn:run:run-1' });

    expect(await run({ plan: computeHashPlan('wf-hash', 5) })).toEqual(out);
    expect(planEvents(n.kernel, 'hxo.plan', out.plan_id)).toHaveLength(1);
  });

  it('runs a plan file, resolved against the base directory', async () => {
    writeFileSync(join(n.dir, 'wf-plan.json'), JSON.stringify(computeHashPlan('wf-file', 3)));
    expect(await run({ file: 'wf-plan.json' })).toMatchObject({ merkle_root: specComputeHashRoot(3), total_shards: 3, truth_certified: true });
  });

  it("resolves a plan file's module paths against the file's own directory", async () => {
    mkdirSync(join(n.dir, 'plans'), { recursive: true });
    const plan = { ...flakyPlan('wf-module', 'ok', 2), modules: [relative(join(n.dir, 'plans'), FLAKY_KIND)] };
    writeFileSync(join(n.dir, 'plans', 'flaky.json'), JSON.stringify(plan));
    expect(await run({ file: 'plans/flaky.json' })).toMatchObject({ total_shards: 2, truth_certified: true, state: 'certified' });
  });

  it('refuses a plan validation refuses, naming its field; a missing file names `file`', async () => {
    const bad = await failure(run({ plan: computeHashPlan('wf-bad', 3, { config: { total: -1 } }) }));
    expect(bad).toBeInstanceOf(ActionInputError);
    expect(bad).toMatchObject({ field: 'plan.stages[0].config.total' });
    expect((bad as Error).message).toMatch(/^hxo\.submit: with\.plan\.stages\[0\]\.config\.total: /);
    expect(isRetryable(bad)).toBe(false);
    expect(await failure(run({ file: 'no-such-plan.yaml' }))).toMatchObject({ field: 'file', message: expect.stringMatching(/^hxo\.submit: with\.file: cannot read .*no-such-plan\.yaml/) });
    writeFileSync(join(n.dir, 'bad-plan.json'), JSON.stringify(computeHashPlan('wf-bad-file', 3, { config: { total: -1 } })));
    expect(await failure(run({ file: 'bad-plan.json' }))).toMatchObject({ field: 'file', message: expect.stringMatching(/^hxo\.submit: with\.file \(stages\[0\]\.config\.total\): /) });
  });

  it('takes exactly one of plan or file', () => {
    expect(refusedField(hxoSubmit, {})).toBe('plan');
    expect(refusedField(hxoSubmit, { plan: computeHashPlan('x', 1), file: 'p.yaml' })).toBe('plan');
    expect(parseActionInput(hxoSubmit, { file: 'p.yaml' })).toEqual({ file: 'p.yaml', wait: true });
  });

  it("aborts the plan when the run's signal aborts while it waits", async () => {
    const plan = flakyPlan('wf-slow', 'slow', 2000, {}, { ms: 20 });
    const controller = new AbortController();
    const step = failure(run({ plan }, ctx(controller.signal)));
    await waitFor(() => n.engine.list().some((p) => p.plan_name === 'wf-slow'), 10_000, 'the plan submitted');
    const slowId = n.engine.list().find((p) => p.plan_name === 'wf-slow')?.plan_id as string;
    await waitFor(() => n.engine.status(slowId).done_shards > 0, 10_000, 'a shard done');
    controller.abort();
    expect(await step).toBeInstanceOf(ActionAbortedError);
    const report = n.engine.report(slowId);
    expect(report.state).toBe('aborted');
    expect(report.done_shards).toBeLessThan(2000);
    const isAbort = (data: unknown) => {
      const d = data as { operation?: string; details?: { plan_id?: string } };
      return d.operation === 'plan.abort' && d.details?.plan_id === slowId;
    };
    const audit = await waitForEvent(n.kernel, 'hxo.audit', (e) => isAbort(e.data));
    expect(audit.data).toMatchObject({ user: 'xyn:run:run-1' });
  });

  it('fails when the plan ends failed, with its reason, not retried', async () => {
    const err = await failure(run({ plan: flakyPlan('wf-throws', 'throws', 3) }));
    expect(err).toBeInstanceOf(PlanFailedActionError);
    expect(err).toMatchObject({ state: 'failed' });
    const { planId } = err as PlanFailedActionError;
    expect(n.engine.report(planId).state).toBe('failed');
    expect((err as Error).message).toMatch(new RegExp(`^plan ${planId} ended failed: 3 of 3 shards failed; first: flaky\\[\\d\\]: flaky shard \\d failed on purpose`));
    expect(isRetryable(err)).toBe(false);
  });

  it('with wait: false, returns at once with the plan running', async () => {
    const out = await run({ plan: computeHashPlan('wf-nowait', 4), wait: false });
    expect(out).toMatchObject({ total_shards: 4 });
    expect(['running', 'certifying', 'certified']).toContain(out.state);
    await waitFor(() => n.engine.status(out.plan_id).state === 'certified', 10_000, 'the plan certified');
  });

  it('says the node runs no HXO engine when the context has none', async () => {
    const err = await failure(hxoSubmit.execute(parseActionInput(hxoSubmit, { plan: computeHashPlan('x', 1) }), actionContext(n.kernel.bus)));
    expect((err as Error).message).toMatch(/runs no HXO engine/);
    expect(isRetryable(err)).toBe(false);
  });
});
