/**
 * Cron triggers: each active blueprint with `trigger.cron` fires exactly once
 * per due time, and after the node was down or busy over several due times it
 * fires once for all of them (`missed` says how many it stands for), never
 * once per missed time and never zero times.
 *
 * Invariants:
 * - `xyn_cron` holds, per blueprint, the fire time it last fired for. That
 *   state moves to a fire time only after `fire` for it resolved: a rejected
 *   fire leaves it, so the next tick retries (at least once, never skipped).
 * - A blueprint seen for the first time, or whose expression or timezone
 *   changed, starts from the moment it was seen, and that moment is written
 *   down: a restart catches up from it, never from before it.
 * - Ticks run one at a time: a tick asked for while one is in flight runs
 *   after it and sees what it fired, so concurrent ticks never double-fire.
 * - Writes of the state run one at a time and each writes the latest state,
 *   so a slow write never overwrites a newer one.
 *
 *   const triggers = new CronTriggers({ store, fire: (f) => runs.start(f.blueprint_id, f.version) });
 *   triggers.set([{ blueprint_id: 'bp.nightly', version: 3, cron: '30 2 * * *', timezone: 'Europe/Berlin' }]);
 *   triggers.start(); // fires 02:30 Berlin time, and once at start if one was missed
 */
import { Cron } from 'croner';
import type { Database } from 'lmdb';
import { systemClock, type Clock } from '../../core/clock.ts';
import type { Store } from '../../store/env.ts';

export interface CronBlueprint {
  blueprint_id: string;
  version: number;
  cron: string;
  timezone?: string;
}

export interface CronFire {
  blueprint_id: string;
  version: number;
  /** The fire time this is for, epoch ms. */
  scheduled_at: number;
  /** Earlier fire times passed over (the node was down or busy): fired once for all of them. */
  missed: number;
}

/** What `xyn_cron` keeps per blueprint_id. */
export interface CronRecord {
  version: number;
  cron: string;
  timezone?: string;
  /** The fire time last fired for; when none yet, the moment the blueprint (or its expression) was first seen. */
  last_fired_at: number;
}

export interface CronTriggersOptions {
  store: Store;
  clock?: Clock;
  fire: (f: CronFire) => Promise<void>;
  /** Told of a rejected fire (with it), or without one of a failed write of the state or an unreadable expression given to set(). Default: console.error. */
  onError?: (err: unknown, f?: CronFire) => void;
  /** Default true: a real timer calls tick() when the next fire is due. */
  timers?: boolean;
}

/** The longest the timer sleeps, so a jump of the system clock is noticed within it. */
export const MAX_SLEEP_MS = 60_000;
/** Missed fire times are counted one by one up to this many; beyond it `missed` says "at least this many". */
export const MAX_COUNTED_MISSED = 100_000;
const FIRST_RETRY_MS = 1_000;

interface Entry {
  bp: CronBlueprint;
  cron: Cron;
  /** Fired for every fire time up to and including this. */
  last: number;
  /** Failed fires in a row, for the timer's backoff (tick() itself always retries). */
  failures: number;
  retryAt: number;
}

const noop = (): void => {};
const sameSchedule = (a: { cron: string; timezone?: string }, b: { cron: string; timezone?: string }): boolean =>
  a.cron === b.cron && (a.timezone ?? '') === (b.timezone ?? '');

export function cronDb(store: Store): Database<CronRecord, string> {
  return store.db<string, CronRecord>('xyn_cron');
}

export class CronTriggers {
  private readonly db: Database<CronRecord, string>;
  private readonly clock: Clock;
  private readonly fire: (f: CronFire) => Promise<void>;
  private readonly onError: (err: unknown, f?: CronFire) => void;
  private readonly timers: boolean;
  private entries = new Map<string, Entry>();
  /** Blueprint ids whose record differs from the entry (or has no entry any more: to remove). */
  private readonly dirty = new Set<string>();
  /** Blueprint ids a set() left out: their records (maybe not removed yet) are never adopted again. */
  private readonly dropped = new Set<string>();
  private ticking: Promise<unknown> = Promise.resolve();
  private writing: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(private readonly opts: CronTriggersOptions) {
    this.db = cronDb(opts.store);
    this.clock = opts.clock ?? systemClock;
    this.fire = opts.fire;
    this.onError = opts.onError ?? ((err, f) => console.error(`cron trigger${f ? ` ${f.blueprint_id}` : ''} failed:`, err));
    this.timers = opts.timers ?? true;
  }

  /**
   * Replaces the set of cron blueprints. A blueprint seen for the first time,
   * or whose expression or timezone changed, starts from now; one that keeps
   * its schedule keeps its state (across a restart too). The state of a
   * blueprint left out is removed: if it comes back it starts from then.
   */
  set(blueprints: CronBlueprint[]): void {
    const now = this.clock.now();
    const next = new Map<string, Entry>();
    for (const bp of blueprints) {
      const id = bp.blueprint_id;
      const old = next.get(id) ?? this.entries.get(id);
      if (old && sameSchedule(old.bp, bp)) {
        if (old.bp.version !== bp.version) this.dirty.add(id);
        old.bp = bp;
        next.set(id, old);
        continue;
      }
      let cron: Cron;
      try {
        cron = new Cron(bp.cron, { paused: true, ...(bp.timezone ? { timezone: bp.timezone } : {}) });
      } catch (err) {
        // Validation refuses these; one that slipped through is told and left out, not fatal to the others.
        this.onError(err);
        continue;
      }
      const record = this.dropped.has(id) ? undefined : this.db.get(id);
      this.dropped.delete(id);
      const kept = record && sameSchedule(record, bp);
      next.set(id, { bp, cron, last: kept ? record.last_fired_at : now, failures: 0, retryAt: 0 });
      if (!kept || record.version !== bp.version) this.dirty.add(id);
    }
    for (const id of this.entries.keys()) if (!next.has(id)) this.dropped.add(id);
    for (const id of this.db.getKeys()) if (!next.has(id)) this.dirty.add(id);
    this.entries = next;
    if (this.dirty.size > 0) void this.save();
    this.arm();
  }

  /** Fires what is due at clock.now(), once per blueprint; resolves with what fired. */
  tick(): Promise<CronFire[]> {
    const run = this.ticking.then(() => this.runTick());
    this.ticking = run.then(noop, noop);
    return run;
  }

  /** The next fire time of each blueprint (at <= now: due, a tick fires it). */
  next(): { blueprint_id: string; at: number }[] {
    return [...this.entries.values()].flatMap((e) => {
      const at = e.cron.nextRun(new Date(e.last));
      return at ? [{ blueprint_id: e.bp.blueprint_id, at: at.getTime() }] : [];
    });
  }

  /** Arms the timer (when timers) and ticks once at once: the catch-up after a restart. */
  start(): void {
    this.started = true;
    this.arm();
    this.tick().then(noop, (err: unknown) => this.onError(err));
  }

  /** Disarms the timer; resolves once the tick and the writes in flight are done. */
  async stop(): Promise<void> {
    this.started = false;
    this.disarm();
    await this.ticking;
    await this.writing;
  }

  private async runTick(): Promise<CronFire[]> {
    try {
      const now = this.clock.now();
      const due = [...this.entries.values()].flatMap((entry) => {
        const f = this.dueAt(entry, now);
        return f ? [{ entry, f }] : [];
      });
      const results = await Promise.allSettled(due.map(({ f }) => Promise.resolve().then(() => this.fire(f))));
      const fired: CronFire[] = [];
      results.forEach((result, i) => {
        const { entry, f } = due[i] as (typeof due)[number];
        if (result.status === 'rejected') {
          entry.retryAt = now + Math.min(MAX_SLEEP_MS, FIRST_RETRY_MS * 2 ** entry.failures);
          entry.failures += 1;
          this.onError(result.reason, f);
          return;
        }
        fired.push(f);
        entry.failures = 0;
        entry.retryAt = 0;
        // set() may have replaced or dropped the blueprint meanwhile: its new state stands.
        if (this.entries.get(f.blueprint_id) !== entry) return;
        entry.last = f.scheduled_at;
        this.dirty.add(f.blueprint_id);
      });
      // Resolves once the state is durable, set()'s writes before it included.
      await (this.dirty.size > 0 ? this.save() : this.writing);
      return fired;
    } finally {
      this.arm();
    }
  }

  /** The latest fire time t with last < t <= now, and how many earlier ones it stands for. */
  private dueAt(entry: Entry, now: number): CronFire | undefined {
    let t = entry.cron.nextRun(new Date(entry.last));
    if (!t || t.getTime() > now) return undefined;
    let missed = 0;
    for (;;) {
      if (missed >= MAX_COUNTED_MISSED) {
        t = entry.cron.previousRuns(1, new Date(now + 1))[0] ?? t;
        break;
      }
      const after = entry.cron.nextRun(t);
      if (!after || after.getTime() > now) break;
      t = after;
      missed += 1;
    }
    return { blueprint_id: entry.bp.blueprint_id, version: entry.bp.version, scheduled_at: t.getTime(), missed };
  }

  /**
   * Writes the latest state of every dirty blueprint, after the writes before
   * it. Never rejects: a failed write is told to onError and its blueprints
   * stay dirty, so the next write retries them.
   */
  private save(): Promise<void> {
    const run = this.writing.then(() => this.writeDirty());
    this.writing = run;
    return run;
  }

  private async writeDirty(): Promise<void> {
    const ids = [...this.dirty];
    if (ids.length === 0) return;
    this.dirty.clear();
    try {
      await this.opts.store.write(() => {
        for (const id of ids) {
          const e = this.entries.get(id);
          if (!e) {
            void this.db.remove(id);
            continue;
          }
          const record: CronRecord = { version: e.bp.version, cron: e.bp.cron, last_fired_at: e.last };
          if (e.bp.timezone) record.timezone = e.bp.timezone;
          void this.db.put(id, record);
        }
      });
    } catch (err) {
      for (const id of ids) this.dirty.add(id);
      this.onError(err);
    }
  }

  private arm(): void {
    this.disarm();
    if (!this.started || !this.timers || this.entries.size === 0) return;
    const now = this.clock.now();
    let at = now + MAX_SLEEP_MS;
    for (const e of this.entries.values()) {
      const n = e.cron.nextRun(new Date(e.last));
      if (n) at = Math.min(at, Math.max(n.getTime(), e.retryAt));
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick().then(noop, (err: unknown) => this.onError(err));
    }, Math.max(0, at - now));
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
