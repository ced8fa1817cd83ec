/**
 * The notifications' records in LMDB (records.ts): raised a batch of events
 * at a time, in one transaction with the notifier's place in the log and the
 * webhook deliveries they owe; acknowledged once; read back in pages newest
 * first.
 *
 *   const raised = await book.raise([{ event, content }], event.seq, { collapseMs: 600_000, webhook: true });
 *   await book.ack(id, 'ana', 'on it');
 *   book.list({ status: 'open', severity: 'critical', limit: 50 });
 */
import type { Clock } from '../../core/clock.ts';
import type { XynEvent } from '../../core/event.ts';
import { uuid7 } from '../../core/uuid7.ts';
import type { Store } from '../../store/env.ts';
import { pageOfIds, type Page } from '../drafts/records.ts';
import type { NotificationContent } from './classify.ts';
import { NotificationAckedError, NotificationNotFoundError } from './errors.ts';
import {
  collapseKey,
  CURSOR_KEY,
  notificationIndexDb,
  notificationsDb,
  OUTBOX_PREFIX,
  outboxKey,
  severityKey,
  statusKey,
  UNPUBLISHED_PREFIX,
  unpublishedKey,
  type NotificationRecord,
  type NotificationStatus,
  type OutboxEntry,
  type Severity,
  type WebhookState,
} from './records.ts';

export interface NotificationQuery {
  status?: NotificationStatus;
  severity?: Severity;
  /** The last notification_id of the page before. */
  cursor?: string;
  limit?: number;
}

export interface RaiseOptions {
  /** An open notification with the same key, last seen less than this long before an event, takes it (count + 1). */
  collapseMs: number;
  /** A webhook is configured: each new notification owes it a delivery. */
  webhook: boolean;
}

export class NotificationBook {
  private readonly records;
  private readonly index;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {
    this.records = notificationsDb(store);
    this.index = notificationIndexDb(store);
  }

  /** The seq of the last event the notifier handled; undefined before it first kept one. */
  get cursor(): number | undefined {
    const seq = this.index.get(CURSOR_KEY);
    return typeof seq === 'number' ? seq : undefined;
  }

  async keepCursor(seq: number): Promise<void> {
    await this.store.write(() => void this.index.put(CURSOR_KEY, seq));
  }

  /**
   * Raises a notification for each event with content (or counts it into the
   * open one it collapses into) and moves the cursor to `upTo`, all in one
   * transaction. Resolves with the notifications newly raised.
   */
  async raise(batch: { event: XynEvent; content: NotificationContent }[], upTo: number, options: RaiseOptions): Promise<NotificationRecord[]> {
    const now = new Date(this.clock.now()).toISOString();
    return this.store.write(() => {
      const raised: NotificationRecord[] = [];
      for (const { event, content } of batch) {
        const open = this.collapsing(content.key, event.occurred_at, options.collapseMs);
        if (open) {
          void this.records.put(open.notification_id, { ...open, count: open.count + 1, last_event_seq: event.seq, last_seen_at: event.occurred_at });
          continue;
        }
        const record: NotificationRecord = {
          notification_id: uuid7(this.clock.now()),
          status: 'open',
          ...content,
          event_name: event.event_name,
          event_seq: event.seq,
          correlation_id: event.correlation_id,
          created_at: now,
          count: 1,
          last_event_seq: event.seq,
          last_seen_at: event.occurred_at,
          acked_at: null,
          acked_by: null,
          ack_note: null,
          webhook: options.webhook ? { status: 'pending', attempts: 0, last_error: null, delivered_at: null } : null,
        };
        const id = record.notification_id;
        void this.records.put(id, record);
        void this.index.put(statusKey('open', id), 1);
        void this.index.put(severityKey(record.severity, id), 1);
        void this.index.put(collapseKey(content.key), id);
        void this.index.put(unpublishedKey(id), 1);
        if (options.webhook) void this.index.put(outboxKey(id), { attempts: 0, next_at: 0 } satisfies OutboxEntry);
        raised.push(record);
      }
      void this.index.put(CURSOR_KEY, upTo);
      return raised;
    });
  }

  /** Acknowledges an open notification: who, when, and what they said. A second ack is refused. */
  async ack(id: string, by: string, note: string | null): Promise<NotificationRecord> {
    return this.store.write(() => {
      const record = this.records.get(id);
      if (!record) throw new NotificationNotFoundError(id);
      if (record.status === 'acked') throw new NotificationAckedError(id, record.acked_by ?? '', record.acked_at ?? '');
      const acked: NotificationRecord = { ...record, status: 'acked', acked_at: new Date(this.clock.now()).toISOString(), acked_by: by, ack_note: note };
      void this.records.put(id, acked);
      void this.index.remove(statusKey('open', id));
      void this.index.put(statusKey('acked', id), 1);
      // Like failures from now on raise a new notification: this one has been seen to.
      if (this.index.get(collapseKey(record.key)) === id) void this.index.remove(collapseKey(record.key));
      return acked;
    });
  }

  get(id: string): NotificationRecord {
    const record = this.records.get(id);
    if (!record) throw new NotificationNotFoundError(id);
    return record;
  }

  /** A page of notifications, newest first, filtered by status and/or severity. */
  list(q: NotificationQuery = {}): Page<NotificationRecord> {
    return pageOfIds(this.newestFirst(q), q.limit, (id) => {
      const record = this.records.get(id);
      if (!record || (q.status !== undefined && record.status !== q.status) || (q.severity !== undefined && record.severity !== q.severity)) return undefined;
      return record;
    });
  }

  /** Webhook deliveries owed, oldest notification first. */
  outbox(): { id: string; entry: OutboxEntry }[] {
    return [...this.index.getRange({ start: OUTBOX_PREFIX, end: `${OUTBOX_PREFIX}\uffff` }).map(({ key, value }) => ({ id: key.slice(OUTBOX_PREFIX.length), entry: value as OutboxEntry }))];
  }

  /**
   * Records a delivery attempt on the notification; `nextAt` null ends the
   * delivery (delivered, or out of attempts), else the outbox keeps it for then.
   */
  async attempted(id: string, webhook: WebhookState, nextAt: number | null): Promise<void> {
    await this.store.write(() => {
      const record = this.records.get(id);
      if (record) void this.records.put(id, { ...record, webhook });
      if (nextAt === null || !record) void this.index.remove(outboxKey(id));
      else void this.index.put(outboxKey(id), { attempts: webhook.attempts, next_at: nextAt } satisfies OutboxEntry);
    });
  }

  /** Notifications whose `xyn.notify.raised` was not yet published (a stop came between). */
  unpublished(): NotificationRecord[] {
    const ids = [...this.index.getKeys({ start: UNPUBLISHED_PREFIX, end: `${UNPUBLISHED_PREFIX}\uffff` })].map((k) => k.slice(UNPUBLISHED_PREFIX.length));
    return ids.map((id) => this.records.get(id)).filter((r): r is NotificationRecord => r !== undefined);
  }

  async published(id: string): Promise<void> {
    await this.store.write(() => void this.index.remove(unpublishedKey(id)));
  }

  /** The open notification an event of this key, at this time, counts into, if any. */
  private collapsing(key: string, at: string, collapseMs: number): NotificationRecord | undefined {
    const id = this.index.get(collapseKey(key));
    const open = typeof id === 'string' ? this.records.get(id) : undefined;
    if (!open || open.status !== 'open') return undefined;
    return Date.parse(at) - Date.parse(open.last_seen_at) <= collapseMs ? open : undefined;
  }

  private *newestFirst(q: NotificationQuery): Generator<string> {
    const prefix = q.severity !== undefined ? severityKey(q.severity, '') : q.status !== undefined ? statusKey(q.status, '') : undefined;
    if (prefix === undefined) {
      for (const key of this.records.getKeys({ start: q.cursor ?? '\uffff', end: '', reverse: true })) if (key !== q.cursor) yield key;
      return;
    }
    const start = q.cursor !== undefined ? `${prefix}${q.cursor}` : `${prefix}\uffff`;
    for (const key of this.index.getKeys({ start, end: prefix, reverse: true })) {
      const id = key.slice(prefix.length);
      if (id !== q.cursor) yield id;
    }
  }
}
