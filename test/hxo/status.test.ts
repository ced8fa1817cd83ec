/**
 * A plan's status tells the truth at every instant, and from the store:
 *
 * - polled in a tight loop (every turn of the event loop) while plans end —
 *   certified, failed, aborted — no snapshot is ever inconsistent: an ended
 *   state comes with its finished_at, `certified` with its root and
 *   truth_certified (and only then), a live one with neither, and once a
 *   status says ended the report says the same;
 * - a plan whose process was killed is `unfinished`, with the counts its
 *   checkpoints hold, from `xyn status ID --data DIR` as from a node's engine.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PlanStatus } from '../../src/hxo/report.ts';
import { tempDir, waitFor } from '../kernel/helpers.ts';
import { startXyn, xynSync } from '../helpers/cli.ts';
import { openStore } from '../../src/store/env.ts';
import { Phase, checkpointDb, decodeCheckpoint, forEachBlockRecord, parseBlockKey } from '../../src/hxo/checkpoints/checkpoint-records.ts';
import { BLUEPRINTS, computeHashPlan, flakyPlan, startNode, type TestNode } from './helpers.ts';

const nodes: TestNode[] = [];
const dirs: ReturnType<typeof tempDir>[] = [];
afterAll(async () => {
  for (const n of nodes.splice(0)) await n.close();
  for (const d of dirs.splice(0)) d.cleanup();
});

const ENDED = ['certified', 'failed', 'aborted'];

/** What is wrong with a status snapshot, if anything. */
function inconsistency(s: PlanStatus): string | undefined {
  const ended = s.finished_at !== null;
  if (ended !== ENDED.includes(s.state)) return `state ${s.state} with finished_at ${s.finished_at}`;
  if (s.truth_certified !== (s.state === 'certified')) return `state ${s.state} with truth_certified ${s.truth_certified}`;
  if (s.state === 'certified' && !/^[0-9a-f]{64}$/.test(s.merkle_root ?? '')) return `certified with root ${s.merkle_root}`;
  if (!ended && s.merkle_root !== null) return `${s.state} with root ${s.merkle_root}`;
  if (s.done_shards + s.failed_shards + s.pending_shards + s.claimed_shards + s.running_shards !== s.total_shards) return `counts ${JSON.stringify(s)}`;
  if (s.state === 'certified' && (s.done_shards !== s.total_shards || s.failed_shards !== 0)) return `certified with counts ${JSON.stringify(s)}`;
  return undefined;
}

describe('status', () => {
  it('is consistent in every snapshot while plans end certified, failed and aborted', async () => {
    const n = await startNode();
    nodes.push(n);
    const plans = [
      ...Array.from({ length: 6 }, (_, k) => computeHashPlan(`status-certified-${k}`, 500 + 300 * k)),
      flakyPlan('status-failed', 'throws', 40, { retries: 0 }),
      flakyPlan('status-aborted', 'slow', 400, {}, { ms: 5 }),
    ];
    const submitted = await Promise.all(plans.map((p) => n.engine.submit(p, { baseDir: BLUEPRINTS })));
    const ids = submitted.map((s) => s.planId);
    const aborted = ids.at(-1) as string;
    let ended = 0;
    const finished = Promise.all(submitted.map((s) => s.finished.finally(() => ended++)));
    const bad: string[] = [];
    const seen = new Map<string, Set<string>>(ids.map((id) => [id, new Set<string>()]));
    let snapshots = 0;
    // A tight loop: every turn of the event loop, every plan's status, until all have ended (and once more).
    let abortSent = false;
    for (let last = false; !last; ) {
      last = ended === ids.length;
      // The slow plan is aborted once it has got going.
      if (!abortSent && n.engine.status(aborted).done_shards > 0) abortSent = n.engine.abort(aborted);
      for (const id of ids) {
        const s = n.engine.status(id);
        snapshots++;
        (seen.get(id) as Set<string>).add(s.state);
        const wrong = inconsistency(s);
        if (wrong) bad.push(`${id}: ${wrong}`);
        if (s.finished_at === null) continue;
        const report = n.engine.report(id);
        if (report.state !== s.state || report.merkle_root !== s.merkle_root) bad.push(`${id}: status ${s.state} ${s.merkle_root}, report ${report.state} ${report.merkle_root}`);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await finished;
    expect(bad.slice(0, 5)).toEqual([]);
    expect(snapshots).toBeGreaterThan(1000);
    // Every plan was seen live and ended; the plans that certify were seen certifying.
    const final = ids.map((id) => n.engine.status(id).state);
    expect(final).toEqual([...plans.slice(0, 6).map(() => 'certified'), 'failed', 'aborted']);
    ids.forEach((id) => expect(seen.get(id)).toContain('running'));
    expect(ids.slice(0, 6).filter((id) => seen.get(id)?.has('certifying')).length).toBeGreaterThan(0);
  }, 60_000);

  it('of a plan whose process was killed is unfinished, with the counts of its checkpoints', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const planFile = join(dir.path, 'plan.json');
    const data = join(dir.path, 'data');
    writeFileSync(planFile, JSON.stringify(computeHashPlan('status-killed', 20_000, { config: { total: 20_000, per_shard: 1, rounds: 200 } })));
    const child = startXyn(['run', planFile, '--data', data, '--json']);
    await waitFor(() => existsSync(join(data, 'store', 'data.mdb')), 30_000, 'the store');
    const store = openStore({ path: join(data, 'store') });
    try {
      // Killed once it has checkpointed a few blocks of shards.
      await waitFor(() => (checkpointDb(store).getStats() as { entryCount: number }).entryCount >= 5, 30_000, 'checkpoints');
      child.kill();
      await child.exited;
      let done = 0;
      let planId = '';
      for (const { key, value } of checkpointDb(store).getRange({})) {
        planId = parseBlockKey(key).planId;
        forEachBlockRecord(value, (_k, cp) => (done += decodeCheckpoint(cp).p === Phase.Done ? 1 : 0));
      }
      expect(done).toBeGreaterThan(0);
      expect(done).toBeLessThan(20_000);

      const cli = xynSync(['status', planId, '--data', data, '--json']);
      expect(cli.stderr).toBe('');
      const status = JSON.parse(cli.stdout) as PlanStatus;
      expect(status).toMatchObject({ plan_id: planId, state: 'unfinished', total_shards: 20_000, done_shards: done, failed_shards: 0, pending_shards: 20_000 - done, finished_at: null, truth_certified: false, merkle_root: null });
      expect(inconsistency(status)).toBeUndefined();
    } finally {
      await store.close();
    }
  }, 60_000);
});
