/**
 * What the notifier keeps in LMDB (seed 004 §33). `xyn_notifications`:
 * notification_id → NotificationRecord. `xyn_notification_index`:
 * `s:<status>:<id>` and `v:<severity>:<id>` for filtered lists, `k:<key>` →
 * the open notification a burst of like failures collapses into, `o:<id>` →
 * a webhook delivery still owed (the outbox), `p:<id>` → a
 * `xyn.notify.raised` not yet published, and `cursor` → the seq of the last
 * event the notifier handled. All of one batch of events is written in one
 * transaction with the cursor, so an event is notified once, however the
 * node stops.
 *
 * Notification ids are UUIDv7: their key order is the order they were raised in.
 */
import type { Database } from 'lmdb';
import type { Store } from '../../store/env.ts';

export const SEVERITIES = ['critical', 'error', 'warning'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const NOTIFICATION_STATUSES = ['open', 'acked'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** Where the notification's webhook delivery stands (null: no webhook configured when it was raised). */
export interface WebhookState {
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_error: string | null;
  delivered_at: string | null;
}

export interface NotificationRecord {
  notification_id: string;
  status: NotificationStatus;
  severity: Severity;
  title: string;
  summary: string;
  /** The event that raised it. */
  event_name: string;
  event_seq: number;
  run_id: string | null;
  step_id: string | null;
  plan_id: string | null;
  blueprint_id: string | null;
  correlation_id: string;
  created_at: string;
  /** Like events collapsed into it (1: only the one that raised it), and the last of them. */
  count: number;
  last_event_seq: number;
  last_seen_at: string;
  /** What like failures share (collapse.ts). */
  key: string;
  acked_at: string | null;
  acked_by: string | null;
  ack_note: string | null;
  webhook: WebhookState | null;
}

/** A webhook delivery owed: how many attempts were made, and when the next is due (ms since the epoch). */
export interface OutboxEntry {
  attempts: number;
  next_at: number;
}

export type IndexValue = number | string | OutboxEntry;

export function notificationsDb(store: Store): Database<NotificationRecord, string> {
  return store.db<string, NotificationRecord>('xyn_notifications');
}

export function notificationIndexDb(store: Store): Database<IndexValue, string> {
  return store.db<string, IndexValue>('xyn_notification_index');
}

export const CURSOR_KEY = 'cursor';
export const statusKey = (status: NotificationStatus, id: string): string => `s:${status}:${id}`;
export const severityKey = (severity: Severity, id: string): string => `v:${severity}:${id}`;
export const collapseKey = (key: string): string => `k:${key}`;
export const OUTBOX_PREFIX = 'o:';
export const outboxKey = (id: string): string => `${OUTBOX_PREFIX}${id}`;
export const UNPUBLISHED_PREFIX = 'p:';
export const unpublishedKey = (id: string): string => `${UNPUBLISHED_PREFIX}${id}`;

/** The API's view: the record without its collapse key. */
export function notificationDto(n: NotificationRecord): Omit<NotificationRecord, 'key'> {
  const { key: _key, ...dto } = n;
  return dto;
}
