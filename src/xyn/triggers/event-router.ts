/**
 * Events → runs: the actor `xyn.triggers` reads the bus for the patterns of
 * the active blueprints' `trigger.event_type`, and asks for a run of each
 * blueprint an event matches. It subscribes to those patterns only (not to
 * every event: a million-shard plan's events are never unpacked for it), and
 * subscribes again, from where it was, when the set changes.
 *
 * Nothing is lost or done twice:
 * - it reads from the seq it last handled, kept in LMDB, with the bus's
 *   `replay` lag policy and a pin on retention, so a burst, a crash or a node
 *   restart makes it read on, not skip;
 * - each run it asks for is keyed by the event's seq and the blueprint
 *   (`ev:<seq>:<blueprint>`), so an event read again makes no second run;
 * - an event older than a blueprint's promotion does not trigger it (a
 *   re-subscription replays the log from before that).
 *
 * Backpressure: `admit()` resolves when the node may take another run
 * (XYN_RUNS_MAX_ACTIVE); until then the router reads no further — the events
 * wait in the log, not in memory — and once it is XYN_TRIGGER_LAG_EVENTS
 * behind the log it says so with `xyn.trigger.lagged` (at most every 10 s).
 *
 * Which events may start runs: all but the engine's own chatter
 * (`xyn.step.*`, `xyn.run.created`, `xyn.run.started`, `xyn.trigger.*`). A
 * run's end (`xyn.run.completed|failed|cancelled`) and what a run emits may,
 * one level deeper each time, down to MAX_CHAIN_DEPTH, so two blueprints
 * that trigger each other stop there.
 */
import type { Database } from 'lmdb';
import type { Clock } from '../../core/clock.ts';
import type { XynEvent } from '../../core/event.ts';
import type { ActorInfo, Supervisable } from '../../kernel/actor.ts';
import type { Bus } from '../../kernel/bus.ts';
import type { Logger } from '../../kernel/log.ts';
import type { Delivery, Subscription } from '../../kernel/subscription.ts';
import { compilePattern } from '../../kernel/topic.ts';

export const MAX_CHAIN_DEPTH = 8;
const LAG_REPORT_EVERY_MS = 10_000;
/** How often a router kept waiting for a slot looks at how far behind it falls. */
const LAG_CHECK_MS = 1_000;
const CURSOR_KEY = 'router:seq';
const BATCH = 256;
const MAX_STARTING = 1024;
const YIELD_EVERY = 32;

/** The engine's own events about runs and triggers: never the start of a run. */
const QUIET = /^xyn\.(step\.|trigger\.|run\.(created|started)$)/;

export interface EventTrigger {
  blueprint_id: string;
  version: number;
  pattern: string;
  /** Events that occurred before this (the version's promotion) do not trigger it. */
  active_from: string;
}

export interface EventRouterDeps {
  bus: Bus;
  /** Where the router keeps the seq it handled (key `router:seq`). */
  db: Database<string | number, string>;
  clock: Clock;
  log: Logger;
  lagEvents: number;
  /** Resolves when another run may be taken. */
  admit(): Promise<void>;
  /** Chain depth of the run that emitted an event (0 for an event no run emitted). */
  depthOf(event: XynEvent): number;
  /** Makes (or finds, by key) the run; its errors are logged, not thrown. */
  start(trigger: EventTrigger, event: XynEvent, key: string, depth: number): Promise<void>;
}

interface Compiled extends EventTrigger {
  matches: (topic: string) => boolean;
}

export class EventRouter implements Supervisable {
  readonly id = 'xyn.triggers';
  private triggers: Compiled[] = [];
  private sub: Subscription | null = null;
  private loop: Promise<void> | null = null;
  private running = false;
  private handled = 0;
  private seq: number;
  private startedAt: number | null = null;
  private lastLagReport = -Infinity;
  /** Runs asked for and not yet made; the last one asked for; the write of the seq after the runs before it. */
  private starting = 0;
  private started: Promise<void> = Promise.resolve();
  private kept: Promise<void> = Promise.resolve();
  private readonly crashListeners: ((error: Error) => void)[] = [];

  constructor(private readonly deps: EventRouterDeps) {
    const kept = deps.db.get(CURSOR_KEY);
    this.seq = typeof kept === 'number' ? kept : deps.bus.lastSeq;
  }

  /** Replaces the event triggers; the router subscribes again, from where it was, for the new set. */
  set(triggers: EventTrigger[]): void {
    this.triggers = triggers.map((t) => ({ ...t, matches: compilePattern(t.pattern) }));
    if (this.running) void this.resubscribe();
  }

  async start(): Promise<void> {
    this.running = true;
    this.startedAt = Date.now();
    await this.resubscribe();
  }

  async halt(): Promise<void> {
    this.running = false;
    this.startedAt = null;
    await this.unsubscribe();
  }

  async stop(): Promise<void> {
    await this.halt();
  }

  onCrash(listener: (error: Error) => void): void {
    this.crashListeners.push(listener);
  }

  info(): ActorInfo {
    return { name: this.id, kind: 'router', state: this.running ? 'running' : 'halted', mailbox: (this.sub?.stats().queued ?? 0) + this.starting, handled: this.handled, restarts: 0, started_at: this.startedAt };
  }

  /** The seq of the last event handled (its runs made). */
  get position(): number {
    return this.seq;
  }

  private async unsubscribe(): Promise<void> {
    const loop = this.loop;
    this.sub?.unsubscribe();
    this.sub = null;
    this.loop = null;
    await loop;
    await this.kept;
  }

  private async resubscribe(): Promise<void> {
    await this.unsubscribe();
    if (!this.running) return;
    const patterns = [...new Set(this.triggers.map((t) => t.pattern))];
    if (patterns.length === 0) {
      // Nothing to read: what is published meanwhile can trigger nothing active now.
      this.seq = this.deps.bus.lastSeq;
      return;
    }
    const sub = this.deps.bus.subscribe(patterns, { since: this.seq, lag: 'replay', queueSize: 4096, pin: true });
    this.sub = sub;
    this.loop = this.consume(sub).catch((err: unknown) => {
      if (this.sub !== sub) return;
      this.running = false;
      sub.unsubscribe();
      const error = err instanceof Error ? err : new Error(String(err));
      for (const listener of this.crashListeners) listener(error);
    });
  }

  private async consume(sub: Subscription): Promise<void> {
    for (;;) {
      const first = await sub.next();
      if (!first || this.sub !== sub) return;
      const batch: XynEvent[] = [];
      // What is ready now goes in one batch: one cursor write for all of it.
      for (let d: Delivery | undefined = first; d; d = batch.length < BATCH ? sub.poll() : undefined) {
        if (d.type === 'event') batch.push(d.event);
        else if (d.type === 'truncated') this.deps.log.warn({ oldest_seq: d.oldest_seq, from_seq: d.from_seq }, 'events the workflow triggers had not read were trimmed by retention before they were: they started no runs');
      }
      await this.handle(batch);
      if (this.sub !== sub) return;
    }
  }

  /**
   * Asks for the runs a batch of events makes, and goes on to the next batch
   * without waiting for them to be made (at most MAX_STARTING at a time):
   * the kept seq moves past a batch only once its runs, and those of every
   * batch before it, are made.
   */
  private async handle(events: XynEvent[]): Promise<void> {
    const starts: Promise<void>[] = [];
    /** The last event whose runs were all asked for. */
    let upTo: number | undefined;
    handling: for (const event of events) {
      const matching = QUIET.test(event.event_name) ? [] : this.triggers.filter((t) => t.matches(event.event_name) && event.occurred_at >= t.active_from);
      const depth = matching.length > 0 && event.run_id ? this.deps.depthOf(event) + 1 : 0;
      if (depth > MAX_CHAIN_DEPTH) {
        this.deps.bus
          .publish('xyn.trigger.refused', { event_seq: event.seq, event_name: event.event_name, blueprints: matching.map((t) => t.blueprint_id), reason: `runs triggered by runs' events ${MAX_CHAIN_DEPTH} deep: not one more` }, { correlation_id: event.correlation_id })
          .catch(() => undefined);
      } else {
        for (const t of matching) {
          // Making a run is synchronous work up to its write: a batch yields now and then, so the API's requests are not kept waiting behind it.
          if (starts.length % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
          await this.admitted(event.seq);
          // Halted while it waited: this event and the rest are read again at the next start.
          if (!this.running) break handling;
          while (this.starting >= MAX_STARTING) await this.started;
          this.starting++;
          const start = this.deps.start(t, event, `ev:${event.seq}:${t.blueprint_id}`, depth).finally(() => this.starting--);
          this.started = start;
          starts.push(start);
        }
      }
      upTo = event.seq;
    }
    if (upTo === undefined) return;
    const seq = upTo;
    this.handled += events.length;
    // Never rejects: a place not kept is read again at the next start (the runs' keys make nothing twice).
    this.kept = Promise.all([this.kept, ...starts])
      .then(async () => {
        this.seq = Math.max(this.seq, seq);
        await this.deps.db.put(CURSOR_KEY, this.seq);
      })
      .catch((err: unknown) => this.deps.log.error({ err, seq }, 'the workflow trigger router could not keep its place in the log; it reads on from the last place kept at its next start'));
  }

  /** Waits for the engine to take another run; while it waits, says how far behind the log that leaves the router. */
  private async admitted(at: number): Promise<void> {
    const admit = this.deps.admit();
    this.reportLag(at);
    const watch = setInterval(() => this.reportLag(at), LAG_CHECK_MS);
    try {
      await admit;
    } finally {
      clearInterval(watch);
    }
  }

  private reportLag(at: number): void {
    const behind = this.deps.bus.lastSeq - at;
    const now = this.deps.clock.now();
    if (behind < this.deps.lagEvents || now - this.lastLagReport < LAG_REPORT_EVERY_MS) return;
    this.lastLagReport = now;
    this.deps.log.warn({ behind, at }, 'workflow triggers are behind the event log: runs start as slots free up (XYN_RUNS_MAX_ACTIVE)');
    this.deps.bus.publish('xyn.trigger.lagged', { behind, at_seq: at, last_seq: this.deps.bus.lastSeq }).catch(() => undefined);
  }
}
