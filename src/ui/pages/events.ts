/**
 * The event console (seed 004 §44.1, §44.4): the node's events newest
 * first, filtered by a topic pattern, kept live by the browser script
 * (src/ui/browser/events.ts) from the stream; the list partial
 * (`/ui/events/_list`, and `/ui/events/stream`, its alias for polling); and
 * an event's detail with its correlation chain. Every read is
 * `GET /api/v1/events` in process, as the signed-in principal: a role
 * without hxo:audit sees no audit event here either.
 */
import { z } from 'zod';
import { ApiError } from '../../api/errors.ts';
import { page, type PageRequest, type PageRoute } from '../../api/pages.ts';
import { EVENT_ID } from '../../api/params.ts';
import type { XynEvent } from '../../core/event.ts';
import type { Kernel } from '../../kernel/kernel.ts';
import { view } from '../render.ts';

/** Events a list page shows; the live list keeps at most LIVE_ROWS. */
const PAGE_SIZE = 100;
const LIVE_ROWS = 500;
/** The chain shows up to CHAIN_MAX events, looking through at most CHAIN_READS pages of the API (each scans up to 50,000 events). */
const CHAIN_MAX = 200;
const CHAIN_READS = 4;

interface EventPage {
  items: XynEvent[];
  next_cursor: string | null;
}

const listQuery = z.object({
  pattern: z.string().trim().optional(),
  cursor: z.string().optional(),
});
const detailQuery = z.object({ chain_cursor: z.string().optional() });

type ListQuery = z.output<typeof listQuery>;

/** A page of the list, newest first, as the API gives it to this principal; a 400 of the API (a bad pattern or cursor) is `problem`, shown by the form. */
async function readList(req: PageRequest, q: ListQuery): Promise<{ events: XynEvent[]; nextCursor: string | null; problem: string }> {
  try {
    const answer = await req.api.json<EventPage>('GET', '/api/v1/events', { query: { order: 'desc', limit: PAGE_SIZE, pattern: q.pattern, cursor: q.cursor } });
    return { events: answer.items, nextCursor: answer.next_cursor, problem: '' };
  } catch (err) {
    if (err instanceof ApiError && err.status === 400) return { events: [], nextCursor: null, problem: err.message };
    throw err;
  }
}

/** The list partial: the table and the link to older events. */
async function listPartial(req: PageRequest<unknown, ListQuery>) {
  const list = await readList(req, req.query);
  if (list.problem) throw new ApiError(400, 'bad_request', list.problem);
  return view({ ...req, htmx: true }, '_events_list', { ...list, pattern: req.query.pattern ?? '' }, { fragment: '_events_list' });
}

export function eventPages(kernel: Kernel): PageRoute[] {
  return [
    page({
      method: 'GET',
      path: '/ui/events',
      capability: 'xyn:events:read',
      summary: 'the event console: events newest first, a pattern filter, live',
      query: listQuery,
      async handle(req) {
        // Taken before the list is read: live events start after it, so none falls between the list and the stream.
        const tail = kernel.bus.lastSeq;
        const list = await readList(req, req.query);
        const live = req.query.cursor === undefined && list.problem === '';
        const newest = list.events[0]?.seq ?? 0;
        return view(req, 'events', { ...list, pattern: req.query.pattern ?? '', live, newest, since: Math.max(newest, tail), liveRows: LIVE_ROWS }, { status: list.problem ? 400 : 200 });
      },
    }),
    page({
      method: 'GET',
      path: '/ui/events/_list',
      capability: 'xyn:events:read',
      summary: 'the event list (partial), newest first: ?pattern=&cursor=',
      query: listQuery,
      handle: listPartial,
    }),
    page({
      method: 'GET',
      path: '/ui/events/stream',
      capability: 'xyn:events:read',
      summary: 'the event list (partial) for polling: the same as /ui/events/_list',
      query: listQuery,
      handle: listPartial,
    }),
    page({
      method: 'GET',
      path: '/ui/events/:event_id',
      params: { event_id: EVENT_ID },
      capability: 'xyn:events:read',
      summary: 'one event: its envelope, its data, and its correlation chain',
      query: detailQuery,
      async handle(req) {
        const event = await req.api.json<XynEvent>('GET', `/api/v1/events/${req.params.event_id as string}`);
        const chain = await readChain(req, event.correlation_id, req.query.chain_cursor);
        return view(req, 'event', { event, ...chain });
      },
    }),
  ];
}

/**
 * The events sharing a correlation id, oldest first, from `cursor` on: up to
 * CHAIN_MAX of them, reading the API's pages on while they come short (a
 * page scans a bounded stretch of the log). `more` is where to search on when
 * it stopped before the log's end.
 */
async function readChain(req: PageRequest, correlationId: string, cursor: string | undefined): Promise<{ chain: XynEvent[]; more: string | null }> {
  const chain: XynEvent[] = [];
  let next: string | null | undefined = cursor;
  for (let reads = 0; reads < CHAIN_READS && next !== null && chain.length < CHAIN_MAX; reads++) {
    const answer: EventPage = await req.api.json<EventPage>('GET', '/api/v1/events', { query: { correlation_id: correlationId, limit: CHAIN_MAX - chain.length, cursor: next } });
    chain.push(...answer.items);
    next = answer.next_cursor;
  }
  return { chain, more: next ?? null };
}
