/**
 * `fair_round_robin`: the engine's one scheduler. Every live stage of every
 * live plan is a source; batches are taken from the sources in turn, so a
 * big plan cannot starve a small one, and at most `window` batches are in
 * flight at once (bounded memory, whatever the plan's size).
 */
export interface BatchSource {
  readonly id: string;
  /** Starts one batch if this source has work ready; false if it has none now. */
  dispatch(): boolean;
  /** When this source will next have work, if it is only waiting (retry backoff). */
  readyAt(): number | undefined;
}

export class Scheduler {
  private readonly sources: BatchSource[] = [];
  private turn = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly window: number) {}

  add(source: BatchSource): void {
    this.sources.push(source);
    this.kick();
  }

  remove(source: BatchSource): void {
    const at = this.sources.indexOf(source);
    if (at >= 0) this.sources.splice(at, 1);
  }

  /** A source calls this when one of its batches settled. */
  settled(): void {
    this.inFlight--;
    this.kick();
  }

  get batchesInFlight(): number {
    return this.inFlight;
  }

  /** Fills the window, one batch per source in turn. */
  kick(): void {
    let idle = 0;
    while (this.inFlight < this.window && this.sources.length > 0 && idle < this.sources.length) {
      const source = this.sources[this.turn % this.sources.length] as BatchSource;
      this.turn++;
      if (source.dispatch()) {
        this.inFlight++;
        idle = 0;
      } else {
        idle++;
      }
    }
    this.wakeForRetries();
  }

  private wakeForRetries(): void {
    if (this.timer || this.inFlight >= this.window) return;
    const next = Math.min(...this.sources.map((s) => s.readyAt() ?? Number.POSITIVE_INFINITY));
    if (!Number.isFinite(next)) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, Math.max(1, next - Date.now()));
  }
}
