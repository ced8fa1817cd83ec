/**
 * `xyn run`'s progress bar, drawn on a stand-in TTY with an injected clock:
 * its last line shows the rate over the run, not the 0 an ended plan's
 * status reports.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { showProgress } from '../../src/cli/progress.ts';
import type { PlanStatus } from '../../src/hxo/report.ts';

/** A writable that says it is a terminal, keeping what is drawn on it. */
function fakeTty(): { stream: NodeJS.WritableStream; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  Object.assign(stream, { isTTY: true, columns: 200 });
  return { stream, text: () => text };
}

const status = (done: number, running: boolean): PlanStatus => ({
  plan_id: 'p',
  plan_name: 'p',
  state: running ? 'running' : 'certified',
  total_shards: 1000,
  pending_shards: 1000 - done,
  claimed_shards: 0,
  running_shards: 0,
  done_shards: done,
  failed_shards: 0,
  reused_shards: 0,
  merkle_root: null,
  truth_certified: !running,
  started_at: new Date(0).toISOString(),
  finished_at: running ? null : new Date(4000).toISOString(),
  eta_seconds: running ? null : 0,
  // What the engine reports once the plan has ended.
  shards_per_second: running ? 123 : 0,
});

describe('showProgress', () => {
  it('ends on the rate over the run: shards ended since it started, over its time', () => {
    const tty = fakeTty();
    // 200 shards were done before this run (a resume); 800 more end in 4 s.
    const states = [status(200, true), status(1000, false)];
    const clock = [10_000, 14_000];
    const stop = showProgress(() => states.shift() as PlanStatus, { everyMs: 60_000, stream: tty.stream, now: () => clock.shift() as number });
    stop();
    const lines = [...tty.text().matchAll(/(\d+)\/(\d+) shards \| (\d+) failed \| (\d+)\/s \| eta (\S+)s/g)].map((m) => m[0]);
    expect(lines[0]).toBe('200/1000 shards | 0 failed | 0/s | eta ?s');
    expect(lines.at(-1)).toBe('1000/1000 shards | 0 failed | 200/s | eta 0s');
  });
});
