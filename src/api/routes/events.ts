/**
 * The event log over HTTP: Genesis's view (`/api/genesis/events`, topic
 * patterns and data filters) and Xyn's (`/api/v1/events`, seed 004 §45.3;
 * newest first too, by pattern or correlation id, for the event console),
 * one log behind both; emitting events; and the node's health.
 *
 * What a caller reads is filtered by what it may see: `hxo.audit` needs
 * `hxo:audit`. Retention trims the oldest events: a `since` or `cursor`
 * below the oldest kept seq is 410 Gone naming `oldest_seq` (a shorter page
 * would read as "nothing happened"), and without one a read starts at the
 * oldest kept event. What it emits cannot use the node's own namespaces
 * (`hxo`, `xyn`, `genesis`, in any letter case), but for the control topics
 * (`genesis.heal`, `genesis.intent`), which need the capability of what they
 * make the node do and are audited (emit-guard.ts).
 */
import { z } from 'zod';
import type { Bus } from '../../kernel/bus.ts';
import { matchesFilter, seqOfEventId, type XynEvent } from '../../core/event.ts';
import { EMIT_NAME_MAX, compilePattern } from '../../kernel/topic.ts';
import { publishAudit } from '../../kernel/audit.ts';
import type { EventLog } from '../../store/event-log.ts';
import type { StoreSpace } from '../../store/space.ts';
import { CONTROL_TOPICS, NODE_NAMESPACES } from '../../kernel/namespaces.ts';
import { CONTROL_CAPABILITIES, visibleTo } from '../auth.ts';
import { ApiError, badRequest, notFound } from '../errors.ts';
import { checkEmit } from '../emit-guard.ts';
import { EVENT_ID } from '../params.ts';
import { route, type Route } from '../router.ts';

const PAGE_SCAN = 50_000;
/** Seqs one read of the log spans. */
const SCAN_CHUNK = 1000;
const PAGE = '{items, next_cursor}: next_cursor is null at the end';
const TRUNCATED = 'since or cursor is below the oldest event kept (code truncated, details.oldest_seq)';

const emitBody = z.strictObject({
  event_name: z.string().min(1).max(EMIT_NAME_MAX),
  data: z.record(z.string(), z.unknown()).default({}),
  resource: z.strictObject({ type: z.string().min(1), id: z.string().min(1) }).nullable().optional(),
  run_id: z.string().min(1).nullable().optional(),
  step_id: z.string().min(1).nullable().optional(),
});

const pageQuery = {
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  since: z.coerce.number().int().min(0).optional().describe('the seq to read after (a next_cursor)'),
};

const listQuery = z.object({
  ...pageQuery,
  cursor: z.coerce.number().int().min(0).optional().describe('the next_cursor of the page before (or give since): oldest first, the seq to read after; newest first, the seq to read below'),
  order: z.enum(['asc', 'desc']).default('asc').describe('asc: oldest first (the default); desc: newest first, from the last event down'),
  event_name: z.string().optional().describe('only events of this name'),
  pattern: z.string().max(256).optional().describe('only events whose name matches this topic pattern: xyn.run.*, hxo.plan.>'),
  run_id: z.string().optional().describe('only events of this run'),
  correlation_id: z.string().optional().describe('only events of this correlation id'),
});

/** Any other field is a data filter: `plan_id=…` keeps the events whose data has that plan_id. */
const genesisQuery = z
  .object({
    ...pageQuery,
    topic: z.string().optional().describe('a NATS-style topic pattern: hxo.shard.*, hxo.>'),
    // Taken and checked, as on /api/v1/events, but this view pages on with since.
    cursor: z.coerce.number().int().min(0).optional().describe('not read here: page on with since=next_cursor'),
  })
  .catchall(z.string().describe('FIELD=VALUE: only events whose data has FIELD equal to VALUE'));

export function eventRoutes(bus: Bus, log: EventLog, space: StoreSpace, startedAt: number, version: string): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/health',
      capability: 'public',
      summary: 'is the node up: {status, version, uptime_seconds, now}',
      answers: { 200: '{status: "ok", version, uptime_seconds, now}' },
      handle: () => ({ body: { status: 'ok', version, uptime_seconds: Math.floor((Date.now() - startedAt) / 1000), now: new Date().toISOString() } }),
    },
    route({
      method: 'GET',
      path: '/api/v1/events',
      capability: 'xyn:events:read',
      summary: 'events, oldest first or newest first (?limit=&cursor=|since=&order=asc|desc&event_name=&pattern=&run_id=&correlation_id=); 410 with oldest_seq when cursor/since is below the oldest kept',
      query: listQuery,
      answers: { 200: PAGE, 400: 'cursor and since both given, since with order=desc, or a pattern that is not one', 410: TRUNCATED },
      handle(req) {
        const { limit, cursor, since, order, event_name: name, pattern, run_id: runId, correlation_id: correlationId } = req.query;
        // `since` (the stream's and Genesis's word) means what `cursor` does here; it is not ignored, or a trimmed range would pass for a quiet one.
        if (cursor !== undefined && since !== undefined) throw badRequest('cursor and since: give one of them, not both', { field: 'since' });
        if (order === 'desc' && since !== undefined) throw badRequest('since reads forward from a seq: with order=desc page on with cursor (the next_cursor of the page before)', { field: 'since' });
        const matchesPattern = pattern ? compileQueryPattern(pattern, 'pattern') : undefined;
        const names = (n: string) => (!name || n === name) && (!matchesPattern || matchesPattern(n));
        const visible = visibleTo(req.principal);
        const match = (e: XynEvent) => visible(e) && names(e.event_name) && (!runId || e.run_id === runId) && (!correlationId || e.correlation_id === correlationId);
        const filter = { names, match };
        return { body: order === 'desc' ? pageBackward(log, cursor, limit, filter) : page(log, cursor ?? since, limit, filter) };
      },
    }),
    {
      method: 'GET',
      path: '/api/v1/events/:id',
      params: { id: EVENT_ID },
      capability: 'xyn:events:read',
      summary: 'one event by event_id; 410 with oldest_seq when retention trimmed it',
      answers: { 200: 'the event', 404: 'no such event (or one the caller may not see)', 410: 'retention trimmed it: details.oldest_seq' },
      handle(req) {
        const eventId = req.params.id as string;
        const seq = seqOfEventId(eventId);
        // Seqs start at 1: an id naming seq 0 never existed (404).
        if (seq !== undefined && seq > 0 && seq < log.oldestSeq) {
          throw new ApiError(410, 'truncated', `event ${eventId.slice(0, 64)} was trimmed by retention; the oldest kept is seq ${log.oldestSeq}`, { oldest_seq: log.oldestSeq });
        }
        const event = seq === undefined ? undefined : log.get(seq);
        if (!event || event.event_id !== eventId || !visibleTo(req.principal)(event)) throw notFound(`no event ${eventId.slice(0, 64)}`);
        return { body: event };
      },
    },
    route({
      method: 'POST',
      path: '/api/v1/events',
      capability: 'xyn:events:emit',
      summary: `emit an event (not in the node-owned namespaces ${NODE_NAMESPACES.join(', ')}, in any letter case, but for the control topics: ${CONTROL_TOPICS.map((t) => `${t} needs ${CONTROL_CAPABILITIES[t].capability}`).join(', ')})`,
      body: emitBody,
      answers: {
        201: 'the event, as appended',
        403: "a name in the node's own namespaces, or a control topic without its capability (details: field, topic, …)",
        503: "the node's store is full (code storage_full): send it again once there is room",
      },
      async handle(req) {
        const body = req.body;
        const control = checkEmit(req.principal, body.event_name);
        // While the disk is full the bus holds what it has until there is room: a caller is told now, not kept waiting for it.
        const full = space.condition;
        if (full) throw new ApiError(503, 'storage_full', `the node's store at ${full.path} is full (${full.reason}): events are not taken until space is freed there; send it again then`, { path: full.path, free_bytes: full.free_bytes });
        const event = await bus.publish(body.event_name, body.data, {
          actor: req.principal.id,
          correlation_id: req.correlationId,
          ...(body.resource ? { resource: body.resource } : {}),
          ...(body.run_id ? { run_id: body.run_id } : {}),
          ...(body.step_id ? { step_id: body.step_id } : {}),
        });
        if (control) {
          // Asking the node to change a plan or its tuning is a privileged operation: on the trail, by whom.
          const planId = typeof body.data.plan_id === 'string' ? { plan_id: body.data.plan_id.slice(0, 200) } : {};
          await publishAudit(bus, { user: req.principal.id, role: req.principal.role, operation: 'event.emit', details: { event_name: control, event_id: event.event_id, ...planId } }, { correlation_id: req.correlationId });
        }
        return { status: 201, body: event };
      },
    }),
    route({
      method: 'GET',
      path: '/api/genesis/events',
      capability: 'xyn:events:read',
      summary: 'events by topic pattern and data fields (?topic=hxo.shard.*&plan_id=...&since=&limit=); 410 with oldest_seq when since is below the oldest kept',
      query: genesisQuery,
      answers: { 200: PAGE, 400: 'a topic pattern that is not one', 410: TRUNCATED },
      handle(req) {
        const { limit, since, topic, cursor: _cursor, ...filter } = req.query;
        const matchesTopic = topic ? compileQueryPattern(topic, 'topic') : () => true;
        const visible = visibleTo(req.principal);
        const match = (e: XynEvent) => visible(e) && matchesTopic(e.event_name) && matchesFilter(e, filter);
        return { body: page(log, since, limit, { names: matchesTopic, match }) };
      },
    }),
  ];
}

/** A topic pattern from a query, compiled; a 400 naming the field and the bad token when it is not one. */
function compileQueryPattern(pattern: string, field: string): (name: string) => boolean {
  try {
    return compilePattern(pattern);
  } catch (err) {
    throw badRequest(`${field}: ${(err as Error).message}`, { field });
  }
}

/** What a page keeps: `names` tests an event's name before it is decoded (a fast path), `match` decides. */
interface PageFilter {
  names?: (eventName: string) => boolean;
  match: (e: XynEvent) => boolean;
}

interface EventPage {
  items: XynEvent[];
  next_cursor: string | null;
}

/**
 * Up to `limit` matching events after seq `from` (from the oldest kept when
 * absent; EventsTruncatedError, a 410, when below it); the cursor says where
 * to go on (scans are bounded).
 */
function page(log: EventLog, from: number | undefined, limit: number, filter: PageFilter): EventPage {
  if (from !== undefined) log.checkSince(from);
  const after = from ?? log.oldestSeq - 1;
  const items: XynEvent[] = [];
  let cursor = after;
  const last = log.lastSeq;
  while (items.length < limit && cursor < last && cursor - after < PAGE_SCAN) {
    const until = Math.min(last, cursor + SCAN_CHUNK);
    // Asks for no more than the page still needs: a page of every event decodes no more than it answers.
    const chunk = log.read({ since: cursor, until, limit: limit - items.length, ...filter });
    items.push(...chunk);
    cursor = items.length >= limit ? (chunk[chunk.length - 1] as XynEvent).seq : until;
  }
  return { items, next_cursor: cursor < last ? String(cursor) : null };
}

/**
 * Up to `limit` matching events below seq `before` (below the end when
 * absent), newest first; next_cursor is the lowest seq looked at, the
 * `before` of the next page. A `before` at or below the oldest kept seq is
 * EventsTruncatedError (410): what the reader was paging towards is gone.
 */
function pageBackward(log: EventLog, before: number | undefined, limit: number, filter: PageFilter): EventPage {
  if (before !== undefined) log.checkSince(before - 1);
  const floor = log.oldestSeq - 1;
  const top = before ?? log.lastSeq + 1;
  const items: XynEvent[] = [];
  let cursor = top;
  while (items.length < limit && cursor - 1 > floor && top - cursor < PAGE_SCAN) {
    // The first window is the page's size (a page of every event decodes no more than it answers), then wider while the filter passes few.
    const since = Math.max(floor, cursor - 1 - (cursor === top ? Math.min(limit, SCAN_CHUNK) : SCAN_CHUNK));
    const chunk = log.read({ since, until: cursor - 1, limit: SCAN_CHUNK, ...filter });
    cursor = since + 1;
    for (let i = chunk.length - 1; i >= 0; i--) {
      const e = chunk[i] as XynEvent;
      items.push(e);
      if (items.length >= limit) {
        cursor = e.seq;
        break;
      }
    }
  }
  return { items, next_cursor: cursor - 1 > floor ? String(cursor) : null };
}
