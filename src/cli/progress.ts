/**
 * A live progress bar for a running plan (TTY only): done/failed, shards/s, eta.
 * While it runs the rate is the engine's recent one; the last line shows the
 * rate over the whole run (shards that ended since the bar started, over its
 * time), since an ended plan's status has no recent rate (0).
 */
import { SingleBar, Presets } from 'cli-progress';
import type { PlanStatus } from '../hxo/report.ts';

export interface ProgressOptions {
  everyMs?: number;
  stream?: NodeJS.WritableStream;
  /** Milliseconds on a monotonic clock (injected by tests). */
  now?: () => number;
}

export function showProgress(status: () => PlanStatus, { everyMs = 200, stream = process.stderr, now = () => performance.now() }: ProgressOptions = {}): () => void {
  const first = status();
  const startedAt = now();
  const ended = (s: PlanStatus): number => s.done_shards + s.failed_shards;
  const bar = new SingleBar(
    {
      format: ' {bar} {percentage}% | {value}/{total} shards | {failed} failed | {rate}/s | eta {eta_s}s',
      stream,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  bar.start(first.total_shards, ended(first), { failed: first.failed_shards, rate: 0, eta_s: '?' });
  const refresh = (rate: (s: PlanStatus) => number): void => {
    const s = status();
    bar.update(ended(s), { failed: s.failed_shards, rate: rate(s), eta_s: s.eta_seconds ?? '?' });
  };
  const timer = setInterval(() => refresh((s) => s.shards_per_second), everyMs);
  return () => {
    clearInterval(timer);
    refresh((s) => Math.round((ended(s) - ended(first)) / (Math.max(now() - startedAt, 1) / 1000)));
    bar.stop();
  };
}
