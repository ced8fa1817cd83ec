/**
 * A fixed-size latency histogram (log-spaced buckets, 0.1 ms to ~1 h), for a
 * stage's p50/p95 in constant memory however many shards it runs.
 */
const BUCKETS = 160;
const BASE = 1.12;
const MIN_MS = 0.1;

export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  count = 0;
  max = 0;

  record(ms: number): void {
    const b = bucketOf(ms);
    this.counts[b] = (this.counts[b] ?? 0) + 1;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** Upper bound of the bucket holding quantile `q` (0..1), in ms. */
  quantile(q: number): number {
    return quantileOf(this.counts, this.count, this.max, q);
  }

  /**
   * Quantile `q` as if `more` were recorded too (the elapsed time of shards
   * still running: a lower bound of their latency), without recording them.
   */
  quantileWith(q: number, more: readonly number[]): number {
    if (more.length === 0) return this.quantile(q);
    const counts = this.counts.slice();
    let max = this.max;
    for (const ms of more) {
      const b = bucketOf(ms);
      counts[b] = (counts[b] ?? 0) + 1;
      max = Math.max(max, ms);
    }
    return quantileOf(counts, this.count + more.length, max, q);
  }
}

function bucketOf(ms: number): number {
  return ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / Math.log(BASE)));
}

function quantileOf(counts: Uint32Array, count: number, max: number, q: number): number {
  if (count === 0) return 0;
  const rank = Math.ceil(q * count);
  let seen = 0;
  for (let b = 0; b < BUCKETS; b++) {
    seen += counts[b] ?? 0;
    if (seen >= rank) return Math.min(max, b === 0 ? MIN_MS : MIN_MS * BASE ** b);
  }
  return max;
}
