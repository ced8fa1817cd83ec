/**
 * `xyn events` on a log that retention has trimmed: `--since` below the
 * oldest kept seq is refused with exit 2 naming it (never a shorter history
 * printed as if whole); without `--since`, or from oldest_seq - 1, it prints
 * every kept event from the oldest on; a `--follow` that the node trims past
 * says so on stderr and goes on from the oldest kept.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/env.ts';
import { EventLog } from '../../src/store/event-log.ts';
import { Bus } from '../../src/kernel/bus.ts';
import { tempDir, waitFor } from '../kernel/helpers.ts';
import { xynProcess, xynSync } from '../helpers/cli.ts';

let data: ReturnType<typeof tempDir>;
beforeAll(async () => {
  data = tempDir();
  const store = openStore({ path: join(data.path, 'store') });
  const log = new EventLog(store);
  const bus = new Bus({ log });
  for (let n = 0; n < 10; n++) await bus.publish('cli.tick', { n });
  await log.trimThrough(6); // what retention does, by age or size
  await bus.close();
  await store.close();
});
afterAll(() => data?.cleanup());

const seqs = (stdout: string): number[] => stdout.trim().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq);

describe('xyn events after retention', () => {
  it('refuses --since below the oldest kept seq with exit 2, naming it', () => {
    const r = xynSync(['events', '--data', data.path, '--since', '2'], {}, 30_000);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^xyn: --since 2 is below the oldest event kept \(seq 7\): events up to seq 6 were trimmed by retention .*use --since 6/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('prints every kept event from the oldest on without --since, or with --since oldest - 1', () => {
    const all = xynSync(['events', '--data', data.path], {}, 30_000);
    expect(all.status).toBe(0);
    expect(seqs(all.stdout)).toEqual([7, 8, 9, 10]);
    const from = xynSync(['events', '--data', data.path, '--since', '6', '--limit', '2'], {}, 30_000);
    expect(from.status).toBe(0);
    expect(seqs(from.stdout)).toEqual([7, 8]);
  });
});

describe('xyn events --follow', () => {
  it('says on stderr which seqs were trimmed before it printed them, and goes on from the oldest kept', async () => {
    const follower = xynProcess(['events', '--data', data.path, '--follow']);
    let stdout = '';
    let stderr = '';
    follower.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    follower.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => follower.once('close', (code) => resolve(code)));
    try {
      await waitFor(() => stdout.split('\n').length > 4, 30_000, 'the kept events');
      // Frozen, it cannot read between the append and the trim: they land while it is behind.
      follower.kill('SIGSTOP');
      const store = openStore({ path: join(data.path, 'store') });
      const log = new EventLog(store);
      const bus = new Bus({ log });
      for (let n = 10; n < 20; n++) await bus.publish('cli.tick', { n });
      await log.trimThrough(15);
      await bus.close();
      await store.close();
      follower.kill('SIGCONT');
      await waitFor(() => seqs(stdout).at(-1) === 20, 30_000, 'the events after the trim');
      expect(seqs(stdout)).toEqual([7, 8, 9, 10, 16, 17, 18, 19, 20]);
      expect(stderr).toMatch(/xyn: events 11\.\.15 were trimmed by retention before they were printed; going on from seq 16/);
    } finally {
      follower.kill('SIGTERM');
      await exited;
    }
  });
});
