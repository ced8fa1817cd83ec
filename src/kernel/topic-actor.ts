/**
 * An actor fed by bus topics: it subscribes when it starts and hands the
 * matching events to its handler in order — one at a time, or in batches of
 * whatever is ready (`batch`). It loses none under a burst (the subscription
 * re-reads the log rather than dropping), nor to retention while it catches
 * up (the subscription is pinned: the log is not trimmed past what it has
 * yet to read). A handler that throws crashes the
 * actor, and its supervisor restarts it: from `since()` when given (an actor
 * that keeps its own place, like the audit trail, retries what it did not
 * record), else after the events that threw, so one bad event cannot crash it
 * again and again.
 *
 *   await root.add(new TopicActor('autonomy', bus, ['hxo.autotune.signal'], ([e]) => decide(e)));
 */
import type { Bus } from './bus.ts';
import type { XynEvent } from '../core/event.ts';
import type { Delivery, Subscription } from './subscription.ts';
import type { ActorInfo, Supervisable } from './actor.ts';

export interface TopicActorOptions {
  /** Where (after which seq) to start on every (re)start; by default after the last event taken, or from now. */
  since?: () => number;
  /** Most events per handler call (default 1). */
  batch?: number;
}

export class TopicActor implements Supervisable {
  private sub: Subscription | null = null;
  private loop: Promise<void> | null = null;
  private readonly crashListeners: ((error: Error) => void)[] = [];
  /** The last event taken (handled, or thrown on): a restart goes on after it. */
  private lastSeq: number | undefined;
  /** For info(): what it is doing, (re)starts, events handled (its handler returned), the batch in hand, when it last started. */
  private state: 'new' | 'running' | 'crashed' | 'halted' | 'stopped' = 'new';
  private starts = 0;
  private handled = 0;
  private inHand = 0;
  private startedAt: number | null = null;

  constructor(
    readonly id: string,
    private readonly bus: Bus,
    private readonly topics: readonly string[],
    private readonly handle: (events: XynEvent[]) => Promise<void> | void,
    private readonly options: TopicActorOptions = {},
  ) {}

  async start(): Promise<void> {
    if (this.loop) return;
    const since = this.options.since?.() ?? this.lastSeq ?? this.bus.lastSeq;
    const sub = this.bus.subscribe(this.topics, { since, lag: 'replay', queueSize: 1024, pin: true });
    this.sub = sub;
    this.state = 'running';
    this.starts++;
    this.startedAt = Date.now();
    this.loop = this.consume(sub).catch((err: unknown) => {
      this.loop = null;
      this.state = 'crashed';
      this.startedAt = null;
      this.inHand = 0;
      sub.unsubscribe();
      const error = err instanceof Error ? err : new Error(String(err));
      for (const listener of this.crashListeners) listener(error);
    });
  }

  async halt(): Promise<void> {
    const loop = this.loop;
    if (loop) this.state = 'halted';
    this.startedAt = null;
    this.sub?.unsubscribe();
    this.sub = null;
    this.loop = null;
    await loop;
  }

  async stop(): Promise<void> {
    await this.halt();
    this.state = 'stopped';
  }

  onCrash(listener: (error: Error) => void): void {
    this.crashListeners.push(listener);
  }

  /** Waiting: what the subscription holds (not what it has yet to read back from the log) and the batch in hand. */
  info(): ActorInfo {
    const mailbox = this.inHand + (this.sub?.stats().queued ?? 0);
    return { name: this.id, kind: 'topic', state: this.state, mailbox, handled: this.handled, restarts: Math.max(0, this.starts - 1), started_at: this.startedAt };
  }

  /** Takes what is ready (up to `batch`), hands it over, then waits for more. */
  private async consume(sub: Subscription): Promise<void> {
    const most = this.options.batch ?? 1;
    for (let first = await sub.next(); first; first = await sub.next()) {
      const batch: XynEvent[] = [];
      for (let d: Delivery | undefined = first; d; d = batch.length < most ? sub.poll() : undefined) {
        if (d.type === 'event') batch.push(d.event);
      }
      if (batch.length === 0) continue;
      this.lastSeq = (batch[batch.length - 1] as XynEvent).seq;
      this.inHand = batch.length;
      await this.handle(batch);
      this.handled += batch.length;
      this.inHand = 0;
    }
  }
}
