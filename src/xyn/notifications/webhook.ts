/**
 * Delivers each raised notification to the webhook target
 * (XYN_NOTIFY_WEBHOOK_URL) as a JSON POST, from the durable outbox the
 * notifier fills in the transaction that raises it: a restart owes what it
 * owed before, and a slow or down target holds up only its deliveries, never
 * the notifier's reading of the log.
 *
 * One delivery at a time, oldest first. An attempt that times out
 * (XYN_NOTIFY_WEBHOOK_TIMEOUT_MS), is refused or answers other than 2xx is
 * tried again after XYN_NOTIFY_WEBHOOK_BACKOFF_MS, doubling each time (at
 * most MAX_BACKOFF_MS), up to XYN_NOTIFY_WEBHOOK_ATTEMPTS attempts; then the
 * notification's `webhook.status` is `failed` with the last error. With
 * XYN_NOTIFY_WEBHOOK_SECRET, `X-Xyn-Signature: sha256=<hex HMAC-SHA256 of
 * the body>` lets the target check the body came from this node.
 *
 * The URL and the secret are never logged nor kept in an error (a Slack-like
 * URL is a credential).
 */
import { createHmac } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../kernel/log.ts';
import type { NotificationBook } from './book.ts';
import { notificationDto, type OutboxEntry } from './records.ts';

const MAX_BACKOFF_MS = 5 * 60_000;
const ERROR_MAX = 500;

export interface WebhookTarget {
  url: string;
  secret?: string;
  timeoutMs: number;
  attempts: number;
  backoffMs: number;
}

/** The body's signature as sent in X-Xyn-Signature. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export class WebhookDeliverer {
  private running = false;
  private pass: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopping = new AbortController();
  private readonly counts = { delivered: 0, failed: 0, attempts: 0 };

  constructor(
    private readonly book: NotificationBook,
    private readonly target: WebhookTarget,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.running = true;
    this.stopping = new AbortController();
    this.kick();
  }

  /** Stops; an attempt under way is dropped, not counted (the outbox keeps it for the next start). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.stopping.abort();
    await this.pass;
  }

  /** Delivers what is due now (and arms a timer for what is due later). */
  kick(): void {
    if (!this.running) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pass = this.deliverDue()
      .catch((err: unknown) => this.log.error({ err }, 'notification webhook deliveries could not be recorded; they are tried again at the next start'))
      .finally(() => {
        this.pass = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  stats(): { delivered: number; failed: number; attempts: number; owed: number } {
    return { ...this.counts, owed: this.book.outbox().length };
  }

  private async deliverDue(): Promise<void> {
    for (const { id, entry } of this.book.outbox()) {
      if (!this.running) return;
      if (entry.next_at <= this.clock.now()) await this.deliver(id, entry);
    }
    let next = Infinity;
    for (const { entry } of this.book.outbox()) next = Math.min(next, entry.next_at);
    if (this.running && Number.isFinite(next)) this.timer = setTimeout(() => this.kick(), Math.max(0, next - this.clock.now()));
  }

  private async deliver(id: string, entry: OutboxEntry): Promise<void> {
    const { webhook: _state, ...notification } = notificationDto(this.book.get(id));
    const body = JSON.stringify(notification);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-xyn-notification-id': id };
    if (this.target.secret) headers['x-xyn-signature'] = webhookSignature(this.target.secret, body);
    let failure: string | null = null;
    try {
      const res = await fetch(this.target.url, { method: 'POST', headers, body, signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.target.timeoutMs)]) });
      await res.body?.cancel();
      if (!res.ok) failure = `the target answered ${res.status}`;
    } catch (err) {
      if (this.stopping.signal.aborted) return;
      failure = this.describe(err);
    }
    const attempts = entry.attempts + 1;
    const now = this.clock.now();
    this.counts.attempts++;
    if (failure === null) {
      this.counts.delivered++;
      return this.book.attempted(id, { status: 'delivered', attempts, last_error: null, delivered_at: new Date(now).toISOString() }, null);
    }
    const giveUp = attempts >= this.target.attempts;
    if (giveUp) {
      this.counts.failed++;
      this.log.warn({ notification_id: id, attempts, error: failure }, 'a notification could not be delivered to the webhook target; it stays in the node (GET /api/v1/notifications)');
    }
    const backoff = Math.min(this.target.backoffMs * 2 ** (attempts - 1), MAX_BACKOFF_MS);
    return this.book.attempted(id, { status: giveUp ? 'failed' : 'pending', attempts, last_error: failure, delivered_at: null }, giveUp ? null : now + backoff);
  }

  /** Why an attempt failed, without the URL (it may hold a credential). */
  private describe(err: unknown): string {
    const e = err as Error & { cause?: { message?: string; code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${this.target.timeoutMs} ms` : (e.cause?.message ?? e.message);
    return why.replaceAll(this.target.url, '<webhook url>').slice(0, ERROR_MAX);
  }
}
