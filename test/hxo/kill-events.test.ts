/**
 * Final shard events survive kills: a 100,000-shard plan run by the CLI
 * (`xyn run`, two worker threads) is SIGKILLed many times — as soon as a run
 * has checkpointed its first shards (its resume's re-emitted events still in
 * flight), and at points spread over the plan — then run to the end. Every
 * done shard then has exactly one `hxo.shard.done` event in the log (DESIGN.md
 * §5's guarantee: README, "Shard events"): none is missing, whichever moment took
 * the process, and none is doubled. That the kills did take events (and the
 * resumes gave them back) is checked too: some done events are logged by a
 * later process than the one that ran their shard, or after no claimed event.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/env.ts';
import { EventLog } from '../../src/store/event-log.ts';
import { checkpointDb, decodeCheckpoint, forEachBlockRecord, planKeyRange } from '../../src/hxo/checkpoints/checkpoint-records.ts';
import type { PlanReport } from '../../src/hxo/report.ts';
import { tempDir, waitFor } from '../kernel/helpers.ts';
import { startXyn } from '../helpers/cli.ts';
import { specComputeHashRoot } from './helpers.ts';

const TOTAL = 100_000;
const KILLS = 10;
/** sha256 rounds per shard: enough that a run does not get through the plan between two kills. */
const ROUNDS = 5;
const BLOCKS = Math.ceil(TOTAL / 64);
const dir = tempDir();
let store: Store | undefined;
afterAll(async () => {
  await store?.close();
  dir.cleanup();
});

describe('final shard events across kills', () => {
  it(`a ${TOTAL}-shard plan SIGKILLed ${KILLS} times has exactly one done event per done shard`, async () => {
    const started = Date.now();
    const planFile = join(dir.path, 'plan.yaml');
    const data = join(dir.path, 'data');
    writeFileSync(
      planFile,
      `name: kill-events\nconstraints:\n  max_shards: ${TOTAL}\nstages:\n  - id: hash\n    kind: compute.hash\n    partitioner: by_range\n    executor: hash\n    config: {total: ${TOTAL}, per_shard: 1, rounds: ${ROUNDS}}\n`,
    );
    const args = ['run', planFile, '--data', data, '--json'];
    /** Checkpoint blocks written so far (by another process: a reader beside it). */
    const blocks = (): number => {
      if (!store) {
        if (!existsSync(join(data, 'store', 'data.mdb'))) return 0;
        store = openStore({ path: join(data, 'store') });
      }
      return (checkpointDb(store).getStats() as { entryCount: number }).entryCount;
    };

    const kills: { target: number; at: number }[] = [];
    for (let k = 0; k < KILLS; k++) {
      const child = startXyn(args);
      const before = blocks();
      // Odd kills: as soon as this run has made progress (its resume just done). Even ones: at points up to ~90% of the plan.
      const target = k % 2 === 1 ? before + 1 : Math.max(before + 1, Math.floor((BLOCKS * (k + 2)) / (KILLS + 2)));
      await waitFor(() => child.done() || blocks() >= target, 30_000, `${target} checkpoint blocks`);
      expect(child.done()).toBe(false);
      child.kill();
      expect((await child.exited).signal).toBe('SIGKILL');
      kills.push({ target, at: blocks() });
    }
    expect(kills.at(-1)?.at ?? BLOCKS).toBeLessThan(BLOCKS);

    const final = await startXyn(args).exited;
    expect(final.stderr).toBe('');
    expect(final.code).toBe(0);
    const report = JSON.parse(final.stdout) as PlanReport;
    expect(report).toMatchObject({ state: 'certified', truth_certified: true, total_shards: TOTAL, done_shards: TOTAL, failed_shards: 0 });
    expect(report.merkle_root).toBe(specComputeHashRoot(TOTAL, ROUNDS));

    // The done shards, from their checkpoints: one each.
    const s = store as Store;
    const doneShards = new Set<string>();
    for (const { value } of checkpointDb(s).getRange(planKeyRange(report.plan_id))) {
      forEachBlockRecord(value, (_k, checkpoint) => doneShards.add(decodeCheckpoint(checkpoint).c));
    }
    expect(doneShards.size).toBe(TOTAL);

    // Their done events: exactly one each, and none for anything else.
    const log = new EventLog(s).read({ limit: Number.MAX_SAFE_INTEGER, names: (n) => n === 'xyn.kernel.started' || n.startsWith('hxo.shard.') });
    const ofPlan = log.filter((e) => e.event_name === 'xyn.kernel.started' || (e.data as { plan_id?: string }).plan_id === report.plan_id);
    const doneEvents = new Map<string, number>();
    const claimedIn = new Map<string, number>();
    let incarnation = 0;
    let recovered = 0;
    for (const e of ofPlan) {
      if (e.event_name === 'xyn.kernel.started') incarnation++;
      const items = (e.data as { items?: (string | { cas_id: string })[] }).items ?? [];
      for (const item of items) {
        const casId = typeof item === 'string' ? item : item.cas_id;
        if (e.event_name === 'hxo.shard.claimed') claimedIn.set(casId, incarnation);
        if (e.event_name !== 'hxo.shard.done') continue;
        doneEvents.set(casId, (doneEvents.get(casId) ?? 0) + 1);
        // Logged by a later process than the one that claimed (and ran) it: a resume gave it back.
        if ((claimedIn.get(casId) ?? -1) < incarnation) recovered++;
      }
    }
    const missing = [...doneShards].filter((c) => !doneEvents.has(c));
    const doubled = [...doneEvents].filter(([, n]) => n > 1);
    const stray = [...doneEvents.keys()].filter((c) => !doneShards.has(c));
    console.log(`kill-events: ${kills.length} kills ${JSON.stringify(kills)}, ${recovered} done events given back by a resume, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect({ missing: missing.length, doubled: doubled.length, stray: stray.length }).toEqual({ missing: 0, doubled: 0, stray: 0 });
    expect(ofPlan.filter((e) => e.event_name === 'hxo.shard.failed')).toEqual([]);
    expect(recovered).toBeGreaterThan(0);
  }, 120_000);
});
