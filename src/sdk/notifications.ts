/**
 * Notifications through a node's API (`/api/v1/notifications`): the
 * `notifications` of XynClient, and what `xyn notifications` calls.
 *
 *   const { items } = await node.notifications.list({ status: 'open', severity: 'critical' });
 *   await node.notifications.ack(items[0].notification_id, 'disk replaced');
 */
import { callNode, type NodeAddress } from './http.ts';

/** A notification as the node gives it (docs/workflows.md, "Notifications"). */
export interface NotificationInfo {
  notification_id: string;
  status: 'open' | 'acked';
  severity: 'critical' | 'error' | 'warning';
  title: string;
  summary: string;
  event_name: string;
  event_seq: number;
  run_id: string | null;
  step_id: string | null;
  plan_id: string | null;
  blueprint_id: string | null;
  correlation_id: string;
  created_at: string;
  /** Like events counted into it; the last of them. */
  count: number;
  last_event_seq: number;
  last_seen_at: string;
  acked_at: string | null;
  acked_by: string | null;
  ack_note: string | null;
  /** Its delivery to the node's webhook target; null when the node has none. */
  webhook: { status: 'pending' | 'delivered' | 'failed'; attempts: number; last_error: string | null; delivered_at: string | null } | null;
}

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
    const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]): [string, string] => [k, String(v)]));
    const qs = params.toString();
    return callNode(this.node, 'GET', `/api/v1/notifications${qs ? `?${qs}` : ''}`);
  }

  get(notificationId: string): Promise<NotificationInfo> {
    return callNode(this.node, 'GET', `/api/v1/notifications/${encodeURIComponent(notificationId)}`);
  }

  /** Acknowledges it (ApiRefusedError 409 if it already was). */
  ack(notificationId: string, note?: string): Promise<NotificationInfo> {
    return callNode(this.node, 'POST', `/api/v1/notifications/${encodeURIComponent(notificationId)}/ack`, note !== undefined ? { note } : {});
  }
}
