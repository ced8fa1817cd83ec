/**
 * Notifications over HTTP (xyn/notifications, seed 004 §33): the failures
 * and critical events the node raised, newest first, and their
 * acknowledgement — once, by a person who says so, on the audit trail
 * (`notification.ack`, with the note).
 *
 * Reading needs `xyn:notifications:read`; acknowledging `xyn:notifications:ack`.
 *
 *   GET  /api/v1/notifications?status=open&severity=critical     → {items, next_cursor}
 *   POST /api/v1/notifications/{id}/ack {"note": "disk replaced"}  → the notification, acked
 */
import { z } from 'zod';
import type { Bus } from '../../kernel/bus.ts';
import { publishAudit } from '../../kernel/audit.ts';
import { NOTIFICATION_STATUSES, SEVERITIES, notificationDto, type NotificationBook } from '../../xyn/notifications/index.ts';
import { NOTIFICATION_ID } from '../params.ts';
import { route, type ApiRequest, type Route } from '../router.ts';

const NOTE_MAX = 2000;
const NO_NOTIFICATION = 'no notification with that id';

const listQuery = z.object({
  status: z.enum(NOTIFICATION_STATUSES, { error: `expected one of ${NOTIFICATION_STATUSES.join(', ')}` }).optional().describe('open (not acknowledged yet) or acked'),
  severity: z.enum(SEVERITIES, { error: `expected one of ${SEVERITIES.join(', ')}` }).optional().describe('only notifications of this severity'),
  cursor: z.string().regex(NOTIFICATION_ID.pattern, { error: 'expected a notification id (the next_cursor of the page before)' }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const ackBody = z.strictObject({ note: z.string().max(NOTE_MAX).optional().describe('what was done about it: kept with the notification and on the audit trail') });

export function notificationRoutes(book: NotificationBook, bus: Bus): Route[] {
  const id = (req: ApiRequest): string => req.params.id as string;
  return [
    route({
      method: 'GET',
      path: '/api/v1/notifications',
      capability: 'xyn:notifications:read',
      summary: 'the notifications (failures and critical events), newest first, a page at a time (?status=&severity=&cursor=&limit=)',
      query: listQuery,
      answers: { 200: '{items, next_cursor}: notifications; next_cursor null on the last page' },
      handle(req) {
        const { status, severity, cursor, limit } = req.query;
        const page = book.list({ limit, ...(status ? { status } : {}), ...(severity ? { severity } : {}), ...(cursor ? { cursor } : {}) });
        return { body: { items: page.items.map(notificationDto), next_cursor: page.next_cursor } };
      },
    }),
    {
      method: 'GET',
      path: '/api/v1/notifications/:id',
      params: { id: NOTIFICATION_ID },
      capability: 'xyn:notifications:read',
      summary: 'a notification: what raised it, how often since, who acknowledged it, where its webhook delivery stands',
      answers: { 200: 'the notification', 404: NO_NOTIFICATION },
      handle: (req) => ({ body: notificationDto(book.get(id(req))) }),
    },
    route({
      method: 'POST',
      path: '/api/v1/notifications/:id/ack',
      params: { id: NOTIFICATION_ID },
      capability: 'xyn:notifications:ack',
      summary: 'acknowledge a notification: who, when and the note are kept with it; like failures from then on raise a new one',
      body: ackBody,
      answers: { 200: 'the notification, acked', 404: NO_NOTIFICATION, 409: 'it was already acknowledged (details: acked_by, acked_at)' },
      async handle(req) {
        const note = req.body.note ?? null;
        const acked = await book.ack(id(req), req.principal.id, note);
        await publishAudit(bus, { user: req.principal.id, role: req.principal.role, operation: 'notification.ack', details: { notification_id: acked.notification_id, event_name: acked.event_name, note } }, { correlation_id: req.correlationId });
        return { body: notificationDto(acked) };
      },
    }),
  ];
}
