/**
 * Notifications through a node's API (`/api/v1/notifications`): the
 * `notifications` of XynClient, and what `xyn notifications` calls.
 *
 *   const { items } = await node.notifications.list({ status: 'open', severity: 'critical' });
 *   await node.notifications.ack(items[0].notification_id, 'disk replaced');
 */
import type { notificationDto } from '../xyn/notifications/records.ts';
import { callNode, withQuery, type NodeAddress } from './http.ts';

/** A notification as the node gives it (docs/workflows.md, "Notifications"). */
export type NotificationInfo = ReturnType<typeof notificationDto>;

export interface NotificationListQuery {
  status?: NotificationInfo['status'];
  severity?: NotificationInfo['severity'];
  cursor?: string;
  limit?: number;
}

export class NotificationsClient {
  constructor(private readonly node: NodeAddress) {}

  /** A page of notifications, newest first; pass `next_cursor` as `cursor` for the next. */
  list(query: NotificationListQuery = {}): Promise<{ items: NotificationInfo[]; next_cursor: string | null }> {
    return callNode(this.node, 'GET', withQuery('/api/v1/notifications', query));
  }

  get(notificationId: string): Promise<NotificationInfo> {
    return callNode(this.node, 'GET', `/api/v1/notifications/${encodeURIComponent(notificationId)}`);
  }

  /** Acknowledges it (ApiRefusedError 409 if it already was). */
  ack(notificationId: string, note?: string): Promise<NotificationInfo> {
    return callNode(this.node, 'POST', `/api/v1/notifications/${encodeURIComponent(notificationId)}/ack`, note !== undefined ? { note } : {});
  }
}
