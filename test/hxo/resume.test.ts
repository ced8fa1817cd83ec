/**
 * Crash-resume acceptance: a 100,000-shard compute.hash plan run by the CLI
 * (`xyn run PLAN --data DIR --json`, two worker threads) is SIGKILLed at
 * random moments, at least five times, each time started again with the same
 * command (which resumes the same plan id from its LMDB checkpoints). The run
 * that is let finish exits 0 with a certified report of all 100,000 shards
 * whose Merkle root is the root of an uninterrupted run (computed here from
 * the spec), and no shard is counted, checkpointed or reported done twice.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/env.ts';
import { EventLog } from '../../src/store/event-log.ts';
import { checkpointDb } from '../../src/hxo/checkpoints/checkpoint-records.ts';
import type { PlanReport } from '../../src/hxo/report.ts';
import { verifyReport } from '../../src/hxo/certify/verify-report.ts';
import { tempDir } from '../kernel/helpers.ts';
import { startXyn as start, type CliOutcome as Outcome } from '../helpers/cli.ts';
import { specComputeHashRoot, storedCheckpoints } from './helpers.ts';

const TOTAL = 100_000;
const KILLS = 6;
/** sha256 rounds per shard: enough work that a run cannot finish the plan between two kills. */
const ROUNDS = 100;
const dir = tempDir();
let store: Store | undefined;
afterAll(async () => {
  await store?.close();
  dir.cleanup();
});

const random = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1));

describe('crash-resume', () => {
  it(
    `a ${TOTAL}-shard plan SIGKILLed ${KILLS} times at random moments ends certified with the uninterrupted root, every shard counted once`,
    async () => {
      const planFile = join(dir.path, 'plan.yaml');
      const data = join(dir.path, 'data');
      writeFileSync(
        planFile,
        `name: resume-100k\nconstraints:\n  max_shards: ${TOTAL}\nstages:\n  - id: hash\n    kind: compute.hash\n    partitioner: by_range\n    executor: hash\n    config: {total: ${TOTAL}, per_shard: 1, rounds: ${ROUNDS}}\n`,
      );
      const args = ['run', planFile, '--data', data, '--json'];
      const expectedRoot = specComputeHashRoot(TOTAL, ROUNDS);

      /** Checkpoints in the data dir so far (another process writes them; we only read keys). */
      const checkpointCount = (): number => {
        if (!store) {
          if (!existsSync(join(data, 'store', 'data.mdb'))) return 0;
          store = openStore({ path: join(data, 'store') });
        }
        return storedCheckpoints(checkpointDb(store)).length;
      };

      const kills: { at_ms: number; before: number; after: number }[] = [];
      let final: Outcome | undefined;
      while (!final) {
        const child = start(args);
        const t0 = Date.now();
        if (kills.length >= KILLS) {
          final = await child.exited;
          break;
        }
        const before = checkpointCount();
        if (kills.length === 0) {
          // The first kill: 300-2500 ms after the start, while the node boots or has just begun.
          await sleep(random(300, 2500));
        } else {
          // Then: a random moment 0-1200 ms after this run has visibly made progress, so
          // every kill lands among checkpoint writes; but before it has done more than its
          // share of what is left, so a fast machine cannot finish the plan between kills.
          const deadline = Date.now() + 60_000;
          while (!child.done() && checkpointCount() === before && Date.now() < deadline) await sleep(20);
          const share = Math.floor((TOTAL - before) / (KILLS - kills.length + 1));
          const killAt = Date.now() + random(0, 1200);
          while (!child.done() && Date.now() < killAt && checkpointCount() - before < share) await sleep(10);
        }
        if (child.done()) {
          // It finished before we could kill it: that is the final run.
          final = await child.exited;
          break;
        }
        child.kill();
        const outcome = await child.exited;
        expect(outcome.signal).toBe('SIGKILL');
        kills.push({ at_ms: Date.now() - t0, before, after: checkpointCount() });
      }

      console.log(`resume: kills ${JSON.stringify(kills)}`);
      expect(kills.length).toBeGreaterThanOrEqual(5);
      // Progress was made between kills, and the final run had work left to do.
      expect(kills.filter((k) => k.after > k.before).length).toBeGreaterThanOrEqual(4);
      expect(kills.at(-1)?.after ?? 0).toBeLessThan(TOTAL);

      expect(final.stderr).toBe('');
      expect(final.code).toBe(0);
      const report = JSON.parse(final.stdout) as PlanReport;
      expect(report.state).toBe('certified');
      expect(report.truth_certified).toBe(true);
      expect(report.total_shards).toBe(TOTAL);
      expect(report.done_shards).toBe(TOTAL);
      expect(report.failed_shards).toBe(0);
      expect(report.done_shards + report.failed_shards).toBe(report.total_shards);
      expect(report.failed).toEqual([]);
      expect(report.merkle_root).toBe(expectedRoot);
      expect(verifyReport(report).ok).toBe(true);

      // The store: one plan (every run resumed the same id), exactly one checkpoint per shard.
      const s = store ?? openStore({ path: join(data, 'store') });
      store = s;
      const plans = [...s.db<string>('plans').getKeys({})];
      expect(plans).toEqual([report.plan_id]);
      const keys = storedCheckpoints(checkpointDb(s));
      expect(keys).toHaveLength(TOTAL);
      const seen = new Uint8Array(TOTAL);
      for (const { planId, stage, shard } of keys) {
        expect(planId).toBe(report.plan_id);
        expect(stage).toBe(0);
        seen[shard] = (seen[shard] as number) + 1;
      }
      expect(seen.every((c) => c === 1)).toBe(true);

      // Across all the runs, no shard was reported done twice: a checkpointed shard is never run again.
      const events = new EventLog(s).read({ limit: Number.MAX_SAFE_INTEGER, match: (e) => e.event_name.startsWith('hxo.') });
      const doneIds = events.filter((e) => e.event_name === 'hxo.shard.done').flatMap((e) => (e.data as { items: { cas_id: string }[] }).items.map((x) => x.cas_id));
      expect(new Set(doneIds).size).toBe(doneIds.length);
      expect(doneIds.length).toBeLessThanOrEqual(TOTAL);
      expect(events.filter((e) => e.event_name === 'hxo.plan').length).toBeLessThanOrEqual(1);
      expect(events.filter((e) => e.event_name === 'hxo.aggregate.finalized')).toHaveLength(1);
    },
    170_000,
  );
});
