/**
 * Errors of notifications, with the codes the API answers with
 * (`not_found` → 404, `conflict` → 409), so a route maps them without a table.
 */
import { XynError, registerErrorClass } from '../../core/errors.ts';

export class NotificationNotFoundError extends XynError {
  constructor(readonly notificationId: string) {
    super(`no notification ${notificationId}`, 'not_found', { notification_id: notificationId });
  }
}

/** A notification is acknowledged once; a second ack says by whom and when the first was. */
export class NotificationAckedError extends XynError {
  constructor(
    readonly notificationId: string,
    readonly ackedBy: string,
    readonly ackedAt: string,
  ) {
    super(`notification ${notificationId} was already acknowledged by ${ackedBy} at ${ackedAt}`, 'conflict', { notification_id: notificationId, acked_by: ackedBy, acked_at: ackedAt });
  }
}

registerErrorClass(NotificationNotFoundError);
registerErrorClass(NotificationAckedError);
