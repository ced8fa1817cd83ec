/**
 * The event envelope (seed 004 §29.4) shared by the bus, the log and the API.
 * `seq` is the event's position in the node's one append-only log.
 */
import { randomUUID } from 'node:crypto';

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
    event_id: randomUUID(),
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
