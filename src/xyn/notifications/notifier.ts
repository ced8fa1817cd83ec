/**
 * The actor `xyn.notifier`: reads the bus for failures and critical events
 * (classify.ts), raises a notification for each (book.ts), publishes
 * `xyn.notify.raised` with it, and hands it to the webhook target
 * (webhook.ts) when one is configured.
 *
 * Nothing is missed or told twice, as with the trigger router: it reads from
 * the seq it last handled, kept in LMDB, with the bus's `replay` lag policy
 * and a pin on retention; and a batch's notifications are written in the
 * transaction that moves that seq, so an event read again after a crash finds
 * its place already past it. A `xyn.notify.raised` is marked owed in the
 * same transaction and published again at the next start if a stop came
 * before it was (at least once).
 *
 * A burst of like failures (the same blueprint failing at the same step with
 * the same code, the same alert of the same plan) is one notification: an
 * event whose key matches an open notification last seen less than
 * XYN_NOTIFY_COLLAPSE_MS before it adds to that one's `count` — no new
 * notification, no new `xyn.notify.raised`, no new webhook delivery. Once it
 * is acknowledged, the next such failure raises a new one.
 *
 *   const notifier = new Notifier({ kernel, runs: runEngine.book });
 *   await kernel.xyn.add(notifier);   // and kernel.xyn.remove(notifier) after stop()
 *   notifier.book.list({ status: 'open' });
 */
import { systemClock, type Clock } from '../../core/clock.ts';
import type { XynEvent } from '../../core/event.ts';
import type { ActorInfo, Supervisable } from '../../kernel/actor.ts';
import type { Kernel } from '../../kernel/kernel.ts';
import type { Delivery, Subscription } from '../../kernel/subscription.ts';
import type { RunBook } from '../runs/run-book.ts';
import { NotificationBook } from './book.ts';
import { classify, NOTIFY_TOPICS, type NotificationContent } from './classify.ts';
import { notificationDto, type NotificationRecord } from './records.ts';
import { WebhookDeliverer } from './webhook.ts';

const BATCH = 256;

export interface NotifierOptions {
  kernel: Kernel;
  /** The runs' records: whether a failed step's run goes on without it. */
  runs: RunBook;
  clock?: Clock;
}

export class Notifier implements Supervisable {
  readonly id = 'xyn.notifier';
  readonly book: NotificationBook;
  /** Absent when no XYN_NOTIFY_WEBHOOK_URL is configured. */
  readonly webhook: WebhookDeliverer | undefined;
  private readonly kernel: Kernel;
  private sub: Subscription | null = null;
  private loop: Promise<void> | null = null;
  private running = false;
  private startedAt: number | null = null;
  private handled = 0;
  private raised = 0;
  private readonly publishing = new Set<Promise<void>>();
  private readonly crashListeners: ((error: Error) => void)[] = [];

  constructor(private readonly options: NotifierOptions) {
    const { kernel } = options;
    const clock = options.clock ?? systemClock;
    const { config } = kernel;
    this.kernel = kernel;
    this.book = new NotificationBook(kernel.store, clock);
    this.webhook = config.XYN_NOTIFY_WEBHOOK_URL
      ? new WebhookDeliverer(
          this.book,
          {
            url: config.XYN_NOTIFY_WEBHOOK_URL,
            ...(config.XYN_NOTIFY_WEBHOOK_SECRET ? { secret: config.XYN_NOTIFY_WEBHOOK_SECRET } : {}),
            timeoutMs: config.XYN_NOTIFY_WEBHOOK_TIMEOUT_MS,
            attempts: config.XYN_NOTIFY_WEBHOOK_ATTEMPTS,
            backoffMs: config.XYN_NOTIFY_WEBHOOK_BACKOFF_MS,
          },
          // Real time: its backoff waits on real timers, for a real target.
          systemClock,
          kernel.log,
        )
      : undefined;
  }

  async start(): Promise<void> {
    this.running = true;
    this.startedAt = Date.now();
    let since = this.book.cursor;
    if (since === undefined) {
      // A first start: what the log held before is not news. Kept at once, so a crash before the first batch skips nothing after it.
      since = this.kernel.bus.lastSeq;
      await this.book.keepCursor(since);
    }
    for (const record of this.book.unpublished()) this.publish(record);
    const sub = this.kernel.bus.subscribe(NOTIFY_TOPICS, { since, lag: 'replay', queueSize: 4096, pin: true });
    this.sub = sub;
    this.loop = this.consume(sub).catch((err: unknown) => {
      if (this.sub !== sub) return;
      this.running = false;
      sub.unsubscribe();
      const error = err instanceof Error ? err : new Error(String(err));
      for (const listener of this.crashListeners) listener(error);
    });
    this.webhook?.start();
  }

  async halt(): Promise<void> {
    this.running = false;
    this.startedAt = null;
    const loop = this.loop;
    this.sub?.unsubscribe();
    this.sub = null;
    this.loop = null;
    await loop;
    await Promise.all(this.publishing);
    await this.webhook?.stop();
  }

  async stop(): Promise<void> {
    await this.halt();
  }

  onCrash(listener: (error: Error) => void): void {
    this.crashListeners.push(listener);
  }

  info(): ActorInfo {
    return { name: this.id, kind: 'notifier', state: this.running ? 'running' : 'halted', mailbox: this.sub?.stats().queued ?? 0, handled: this.handled, restarts: 0, started_at: this.startedAt };
  }

  /** Events read, notifications raised, and the webhook's deliveries. */
  stats(): { handled: number; raised: number; webhook: ReturnType<WebhookDeliverer['stats']> | null } {
    return { handled: this.handled, raised: this.raised, webhook: this.webhook?.stats() ?? null };
  }

  private async consume(sub: Subscription): Promise<void> {
    for (;;) {
      const first = await sub.next();
      if (!first || this.sub !== sub) return;
      const events: XynEvent[] = [];
      for (let d: Delivery | undefined = first; d; d = events.length < BATCH ? sub.poll() : undefined) {
        if (d.type === 'event') events.push(d.event);
        else if (d.type === 'truncated') this.kernel.log.warn({ oldest_seq: d.oldest_seq, from_seq: d.from_seq }, 'events the notifier had not read were trimmed by retention before it did: they raised no notifications');
      }
      const last = events.at(-1);
      if (!last) continue;
      const batch: { event: XynEvent; content: NotificationContent }[] = [];
      for (const event of events) {
        const content = classify(event, (runId, stepId) => this.continues(runId, stepId));
        if (content) batch.push({ event, content });
      }
      const raised = await this.book.raise(batch, last.seq, { collapseMs: this.kernel.config.XYN_NOTIFY_COLLAPSE_MS, webhook: this.webhook !== undefined });
      this.handled += events.length;
      this.raised += raised.length;
      for (const record of raised) this.publish(record);
      if (raised.length > 0) this.webhook?.kick();
      if (this.sub !== sub) return;
    }
  }

  /** Whether a failed step's run goes on without it (`on_failure: continue`). */
  private continues(runId: string, stepId: string): boolean {
    return this.options.runs.stepsOf(runId).find((s) => s.step_id === stepId)?.def.on_failure === 'continue';
  }

  /** Publishes `xyn.notify.raised` (one run deeper than the run it is about: a blueprint triggered by it cannot loop forever), then marks it published. */
  private publish(record: NotificationRecord): void {
    const { kernel } = this;
    const { webhook: _webhook, ...data } = notificationDto(record);
    const done = kernel.bus
      .publish('xyn.notify.raised', data, { actor: 'system', correlation_id: record.correlation_id, run_id: record.run_id, step_id: record.step_id, resource: { type: 'notification', id: record.notification_id } })
      .then(() => this.book.published(record.notification_id))
      .catch((err: unknown) => kernel.log.error({ err, notification_id: record.notification_id }, 'xyn.notify.raised not published; it is published at the next start'))
      .finally(() => this.publishing.delete(done));
    this.publishing.add(done);
  }
}
