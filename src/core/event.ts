/**
 * The event envelope (seed 004 §29.4) shared by the bus, the log and the API.
 * `seq` is the event's position in the node's one append-only log.
 */
import { randomFillSync, randomUUID } from 'node:crypto';

export interface EventResource {
  type: string;
  id: string;
}

export interface XynEvent<D = Record<string, unknown>> {
  event_id: string;
  event_name: string;
  occurred_at: string;
  env_id: string;
  actor: string;
  correlation_id: string;
  run_id: string | null;
  step_id: string | null;
  resource: EventResource | null;
  data: D;
  seq: number;
}

/** What a publisher may say about an event besides its name and data. */
export interface EventMeta {
  actor?: string;
  correlation_id?: string;
  run_id?: string | null;
  step_id?: string | null;
  resource?: EventResource | null;
}

export function makeEvent(
  seq: number,
  name: string,
  data: Record<string, unknown>,
  meta: EventMeta,
  envId: string,
  now: Date,
): XynEvent {
  return {
    event_id: eventIdFor(seq),
    event_name: name,
    occurred_at: now.toISOString(),
    env_id: envId,
    actor: meta.actor ?? 'system',
    correlation_id: meta.correlation_id ?? randomUUID(),
    run_id: meta.run_id ?? null,
    step_id: meta.step_id ?? null,
    resource: meta.resource ?? null,
    data,
    seq,
  };
}

/**
 * An event id: a UUID (version 8, "custom") whose first 48 bits are the
 * event's seq and the rest random. Unique like any UUID, and it says where
 * the event is in the log: `GET /api/v1/events/{id}` is one read, no index.
 */
export function eventIdFor(seq: number): string {
  const hex = seq.toString(16).padStart(12, '0');
  const random = randomHex(10);
  const variant = ((parseInt(random[3] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${random.slice(0, 3)}-${variant}${random.slice(4, 7)}-${random.slice(7, 19)}`;
}

/** Random bytes come from a pool refilled 4 KiB at a time: one system call per ~400 ids, not per id. */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;
function randomHex(bytes: number): string {
  if (poolAt + bytes > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += bytes;
  return pool.toString('hex', poolAt - bytes, poolAt);
}

/** The seq an event id was made for, or undefined if it is not one of ours. */
export function seqOfEventId(id: string): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)) return undefined;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/** Equality filter on `data` fields; values compare as strings (as they arrive in a query string). */
export type DataFilter = Record<string, string | number | boolean>;

export function matchesFilter(event: XynEvent, filter: DataFilter | undefined): boolean {
  if (!filter) return true;
  for (const [field, want] of Object.entries(filter)) {
    const have = (event.data as Record<string, unknown>)[field];
    if (have === undefined || String(have) !== String(want)) return false;
  }
  return true;
}
