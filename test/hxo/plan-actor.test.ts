/**
 * A live plan is an actor under its own supervisor (`hxo → plan:<id> → run`,
 * src/hxo/run/plan-actor.ts), tested with fault injection: the fixture kind's
 * `crashes_at` partitioner throws on the main thread — in the plan actor's
 * own handling — when shard N is taken, once (a marker file) or every time.
 *
 * - once: the supervisor restarts the actor, which resumes from its
 *   checkpoints and certifies the root a run without the fault gets, every
 *   shard checkpointed and reported done exactly once;
 * - every time: past HXO_PLAN_MAX_RESTARTS the plan ends failed, with the
 *   reason in its report and an `hxo.alert`, while another plan running
 *   beside it certifies and the node takes new plans; it stays resumable.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyReport } from '../../src/hxo/certify/verify-report.ts';
import { PlanActor, type PlanIncarnation } from '../../src/hxo/run/plan-actor.ts';
import { initialLifecycle } from '../../src/hxo/run/plan-lifecycle.ts';
import type { PlanReport } from '../../src/hxo/report.ts';
import { BLUEPRINTS, checkpointKeys, computeHashPlan, flakyPlan, nodesOfFile, planEvents, type TestNode } from './helpers.ts';

const node = nodesOfFile();

async function run(n: TestNode, plan: unknown): Promise<{ planId: string; report: PlanReport }> {
  const { planId, finished } = await n.engine.submit(plan, { baseDir: BLUEPRINTS });
  return { planId, report: await finished };
}

function crashingPlan(name: string, count: number, config: Record<string, unknown>): Record<string, unknown> {
  return flakyPlan(name, 'ok', count, { partitioner: 'crashes_at' }, config);
}

/** The kernel's restart notices for one plan's supervisor. */
function restartsOf(n: TestNode, planId: string): { error: string }[] {
  return n.kernel.bus
    .queryHistory({ topic: 'xyn.kernel.supervisor.restarting', limit: 10_000 })
    .map((e) => e.data as { supervisor: string; error: string })
    .filter((d) => d.supervisor === `plan:${planId}`);
}

describe('a plan actor that crashes once', () => {
  it('is restarted by its supervisor, resumes from its checkpoints and certifies the root of a run without the fault', async () => {
    const n = await node();
    const marker = join(n.dir, 'fault-struck');
    const plan = crashingPlan('crash-once', 3000, { crash_at: 1500, marker });
    const { planId, report } = await run(n, plan);

    expect(existsSync(marker)).toBe(true);
    const restarts = restartsOf(n, planId);
    expect(restarts).toHaveLength(1);
    expect(restarts[0]?.error).toBe('fault injected at shard 1500');
    expect(report).toMatchObject({ state: 'certified', truth_certified: true, total_shards: 3000, done_shards: 3000, failed_shards: 0 });
    expect(report.crashes).toBeUndefined();
    expect(verifyReport(report).ok).toBe(true);

    // Every shard checkpointed once, and reported done once across the two incarnations.
    expect(checkpointKeys(n, planId)).toHaveLength(3000);
    await n.kernel.bus.flushed();
    const done = planEvents(n.kernel, 'hxo.shard.done', planId).flatMap((e) => (e.data as { items: { cas_id: string }[] }).items.map((x) => x.cas_id));
    expect(done).toHaveLength(3000);
    expect(new Set(done).size).toBe(3000);

    // The same plan on a node where the fault does not strike (the marker exists): no restart, the same root.
    const clean = await node();
    const again = await run(clean, plan);
    expect(restartsOf(clean, again.planId)).toHaveLength(0);
    expect(again.report.merkle_root).toBe(report.merkle_root);
  });
});

describe('a plan actor that crashes every time', () => {
  it('ends failed past the restart intensity, with the reason and an alert; the other plans and the node go on', async () => {
    const n = await node({ HXO_PLAN_MAX_RESTARTS: '2' });
    const beside = await n.engine.submit(flakyPlan('beside', 'slow', 300, {}, { ms: 2 }), { baseDir: BLUEPRINTS });
    const { planId, report } = await run(n, crashingPlan('crash-always', 2000, { crash_at: 100 }));

    expect(report).toMatchObject({ state: 'failed', truth_certified: false, merkle_root: null, failed_shards: 0, crashes: 3 });
    expect(report.reason).toMatch(/^the plan actor kept crashing: supervisor plan:\S+ gave up after 2 restarts within 60000 ms; last crash: fault injected at shard 100$/);
    expect(restartsOf(n, planId)).toHaveLength(2);
    expect(n.engine.status(planId)).toMatchObject({ state: 'failed' });
    await n.kernel.bus.flushed();
    const alerts = planEvents(n.kernel, 'hxo.alert', planId).map((e) => e.data as { alert_type: string; message: string });
    expect(alerts).toEqual([expect.objectContaining({ alert_type: 'plan_crashed', message: report.reason })]);

    // The plan beside it, and one submitted after, certify.
    expect(await beside.finished).toMatchObject({ state: 'certified', done_shards: 300 });
    expect((await run(n, computeHashPlan('after', 500))).report).toMatchObject({ state: 'certified', done_shards: 500 });

    // It failed for no shard's sake: it may be resumed (here it crashes again, the same way).
    const resumed = await n.engine.resume(planId);
    expect(await resumed.finished).toMatchObject({ state: 'failed', crashes: 3 });
  });
});

describe('a plan actor stopped between a crash and its restart', () => {
  it('is told halted once, so nothing waits on it; an ended one is not told again', async () => {
    const told: string[] = [];
    const life = initialLifecycle(0);
    const incarnation = (run: () => Promise<PlanReport>): PlanIncarnation => ({ run, halt: () => {}, lifecycle: () => life, progress: () => ({ ended: 0, inFlight: 0 }) });
    const outcome = { ended: () => told.push('ended'), halted: () => told.push('halted') };
    const crashing = new PlanActor('p1', incarnation(() => Promise.reject(new Error('boom'))), () => incarnation(() => Promise.reject(new Error('boom'))), outcome);
    const crashed = new Promise<Error>((resolve) => crashing.onCrash(resolve));
    await crashing.start();
    expect((await crashed).message).toBe('boom');
    expect(crashing.info()).toMatchObject({ kind: 'plan', state: 'restarting', restarts: 0 });
    await crashing.stop();
    await crashing.stop();
    expect(told).toEqual(['halted']);

    const report = { plan_id: 'p2' } as PlanReport;
    const ending = new PlanActor('p2', incarnation(() => Promise.resolve(report)), () => incarnation(() => Promise.resolve(report)), outcome);
    await ending.start();
    await ending.stop();
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    expect(told).toEqual(['halted', 'ended']);
  });
});
