/**
 * A user partitioner whose `count(config)` disagrees with what
 * `shards(config)` yields must not hang the engine or crash the process: the
 * plan should end, uncertified, saying why.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { PlanReport } from '../../src/hxo/report.ts';
import { BLUEPRINTS, FLAKY_KIND, computeHashPlan, startNode, type TestNode } from './helpers.ts';

const nodes: TestNode[] = [];
afterAll(async () => {
  for (const n of nodes.splice(0)) await n.close();
});

/** The plan's outcome, or 'still running' after `ms`. */
function within(ms: number, finished: Promise<PlanReport>): Promise<PlanReport | 'still running'> {
  return Promise.race([finished, new Promise<'still running'>((r) => setTimeout(() => r('still running'), ms).unref())]);
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

describe('a partitioner whose count() disagrees with shards()', () => {
  it.each([
    ['overcounted', 'count() says 21, shards() yields 20'],
    ['undercounted', 'count() says 19, shards() yields 20'],
  ])('%s (%s): the plan ends uncertified, nothing is thrown unhandled, and the pool keeps working', async (partitioner) => {
    const n = await startNode();
    nodes.push(n);
    process.on('unhandledRejection', onUnhandled);
    try {
      const plan = { name: `miscount-${partitioner}`, modules: [FLAKY_KIND], stages: [{ id: 's', kind: 'test.flaky', partitioner, executor: 'ok', config: { count: 20 } }] };
      const submitted = await n.engine.submit(plan, { baseDir: BLUEPRINTS });
      const outcome = await within(10_000, submitted.finished);
      expect(unhandled.map(String)).toEqual([]);
      expect(outcome === 'still running' ? outcome : outcome.state).toBe('failed');
      expect((outcome as PlanReport).truth_certified).toBe(false);
      // ...saying why.
      expect((outcome as PlanReport).reason).toMatch(/\S/);
      // The scheduler window was not leaked: another plan still runs.
      const after = await within(10_000, (await n.engine.submit(computeHashPlan(`after-${partitioner}`, 100), { baseDir: BLUEPRINTS })).finished);
      expect(after === 'still running' ? after : after.state).toBe('certified');
    } finally {
      process.off('unhandledRejection', onUnhandled);
      unhandled.length = 0;
    }
  }, 40_000);
});
