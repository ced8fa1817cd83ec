/** A live progress bar for a running plan (TTY only): done/failed, shards/s, eta. */
import { SingleBar, Presets } from 'cli-progress';
import type { PlanStatus } from '../hxo/report.ts';

export function showProgress(status: () => PlanStatus, everyMs = 200): () => void {
  const first = status();
  const bar = new SingleBar(
    {
      format: ' {bar} {percentage}% | {value}/{total} shards | {failed} failed | {rate}/s | eta {eta_s}s',
      stream: process.stderr,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  bar.start(first.total_shards, first.done_shards + first.failed_shards, { failed: first.failed_shards, rate: 0, eta_s: '?' });
  const refresh = (): void => {
    const s = status();
    bar.update(s.done_shards + s.failed_shards, { failed: s.failed_shards, rate: s.shards_per_second, eta_s: s.eta_seconds ?? '?' });
  };
  const timer = setInterval(refresh, everyMs);
  return () => {
    clearInterval(timer);
    refresh();
    bar.stop();
  };
}
