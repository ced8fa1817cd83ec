/**
 * The actor `xyn.notifier`: reads the bus for failures and critical events
 * (classify.ts), raises a notification for each (book.ts), publishes
 * `xyn.notify.raised` with it, and hands it to the webhook target
 * (webhook.ts) when one is configured.
 *
 * Nothing is missed or told twice: a TopicActor (replaying, pinned) reads
 * from the seq it last handled, kept in LMDB, at every (re)start; and a
 * batch's notifications are written in the transaction that moves that
 * seq, so an event read again after a crash finds its place already past it. A `xyn.notify.raised` is marked owed in the
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
import { TopicActor } from '../../kernel/topic-actor.ts';
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
  private readonly actor: TopicActor;
  private raised = 0;
  /** `xyn.notify.raised` being published, by notification: a restart does not publish one twice. */
  private readonly publishing = new Map<string, Promise<void>>();

  constructor(private readonly options: NotifierOptions) {
    const { kernel } = options;
    const { config } = kernel;
    this.kernel = kernel;
    this.book = new NotificationBook(kernel.store, options.clock ?? systemClock);
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
    this.actor = new TopicActor(this.id, kernel.bus, NOTIFY_TOPICS, (events) => this.handle(events), { since: () => this.book.cursor ?? kernel.bus.lastSeq, batch: BATCH });
  }

  async start(): Promise<void> {
    // A first start: what the log held before is not news. Kept at once, so a crash before the first batch skips nothing after it.
    if (this.book.cursor === undefined) await this.book.keepCursor(this.kernel.bus.lastSeq);
    for (const record of this.book.unpublished()) this.publish(record);
    await this.actor.start();
    this.webhook?.start();
  }

  async halt(): Promise<void> {
    await this.actor.halt();
    await Promise.all(this.publishing.values());
    await this.webhook?.stop();
  }

  async stop(): Promise<void> {
    await this.halt();
    await this.actor.stop();
  }

  onCrash(listener: (error: Error) => void): void {
    this.actor.onCrash(listener);
  }

  info(): ActorInfo {
    return { ...this.actor.info(), kind: 'notifier' };
  }

  /** Notifications raised since the start, and the webhook's deliveries. */
  stats(): { raised: number; webhook: ReturnType<WebhookDeliverer['stats']> | null } {
    return { raised: this.raised, webhook: this.webhook?.stats() ?? null };
  }

  /** Raises the notifications of a batch of events, with the notifier's place past them; a write that fails crashes the actor, whose restart reads them again. */
  private async handle(events: XynEvent[]): Promise<void> {
    const batch: { event: XynEvent; content: NotificationContent }[] = [];
    for (const event of events) {
      const content = classify(event, (runId, stepId) => this.continues(runId, stepId));
      if (content) batch.push({ event, content });
    }
    const upTo = (events.at(-1) as XynEvent).seq;
    const raised = await this.book.raise(batch, upTo, { collapseMs: this.kernel.config.XYN_NOTIFY_COLLAPSE_MS, webhook: this.webhook !== undefined });
    this.raised += raised.length;
    for (const record of raised) this.publish(record);
    if (raised.length > 0) this.webhook?.kick();
  }

  /** Whether a failed step's run goes on without it (`on_failure: continue`). */
  private continues(runId: string, stepId: string): boolean {
    return this.options.runs.stepsOf(runId).find((s) => s.step_id === stepId)?.def.on_failure === 'continue';
  }

  /** Publishes `xyn.notify.raised` (one run deeper than the run it is about: a blueprint triggered by it cannot loop forever), then marks it published. */
  private publish(record: NotificationRecord): void {
    const { kernel } = this;
    const id = record.notification_id;
    if (this.publishing.has(id)) return;
    const { webhook: _webhook, ...data } = notificationDto(record);
    const done = kernel.bus
      .publish('xyn.notify.raised', data, { actor: 'system', correlation_id: record.correlation_id, run_id: record.run_id, step_id: record.step_id, resource: { type: 'notification', id } })
      .then(() => this.book.published(id))
      .catch((err: unknown) => kernel.log.error({ err, notification_id: id }, 'xyn.notify.raised not published; it is published at the next start'))
      .finally(() => this.publishing.delete(id));
    this.publishing.set(id, done);
  }
}
