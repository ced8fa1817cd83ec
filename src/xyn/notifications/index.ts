/** Notifications (seed 004 §33): failures and critical events, kept until a person acknowledges them, and sent on to a webhook. */
export { Notifier, type NotifierOptions } from './notifier.ts';
export { NotificationBook, type NotificationQuery } from './book.ts';
export { NotificationAckedError, NotificationNotFoundError } from './errors.ts';
export { NOTIFY_TOPICS } from './classify.ts';
export { webhookSignature } from './webhook.ts';
export { NOTIFICATION_STATUSES, SEVERITIES, notificationDto, type NotificationRecord, type NotificationStatus, type Severity, type WebhookState } from './records.ts';
