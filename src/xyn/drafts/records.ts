/**
 * What drafts and promoted blueprints keep in LMDB, and how lists of them are
 * paged. `xyn_drafts`: draft_id → DraftRecord. `xyn_blueprints`:
 * `head:<id>` → BlueprintHead (the active version), `v:<id>@<version>` →
 * BlueprintVersion (frozen: never rewritten). Texts and reports are CAS blobs.
 */
import type { Database } from 'lmdb';
import { ValidationError } from '../../core/errors.ts';
import type { Store } from '../../store/env.ts';
import type { BlueprintIssue } from '../blueprint/index.ts';

export interface DraftRevision {
  revision: number;
  /** CAS address of the definition's text. */
  definition_sha256: string;
  /** Decides how the text is read: JSON when it ends in .json, YAML otherwise. */
  file_name: string;
  saved_at: string;
  by: string;
}

export interface DraftRecord {
  draft_id: string;
  /** The latest revision's `id`, when its text parses and has one. */
  blueprint_id: string | null;
  revisions: DraftRevision[];
  /** The last validation run. */
  validated?: { revision: number; report_sha256: string; is_valid: boolean; issues: number };
  /** The last promotion of this draft. */
  promoted?: { revision: number; blueprint_id: string; version: number; promoted_at: string };
}

/** The report artifact of a validation, stored in the CAS as JSON. */
export interface ValidationReport {
  draft_id: string;
  revision: number;
  blueprint_id: string | null;
  is_valid: boolean;
  issues: BlueprintIssue[];
  validated_at: string;
}

export interface BlueprintVersion {
  blueprint_id: string;
  version: number;
  definition_sha256: string;
  /** The draft revision's, to read the text as it was. */
  file_name: string;
  /** blueprintDigest of the parsed definition. */
  digest: string;
  draft_id: string;
  revision: number;
  promoted_at: string;
  by: string;
}

export interface BlueprintHead {
  blueprint_id: string;
  active_version: number;
  latest_version: number;
}

export const headKey = (id: string): string => `head:${id}`;
export const versionKey = (id: string, version: number): string => `v:${id}@${version}`;

export function draftsDb(store: Store): Database<DraftRecord, string> {
  return store.db<string, DraftRecord>('xyn_drafts');
}

export function blueprintsDb(store: Store): Database<BlueprintHead | BlueprintVersion, string> {
  return store.db<string, BlueprintHead | BlueprintVersion>('xyn_blueprints');
}

export interface PageQuery {
  cursor?: string;
  limit?: number;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last one. */
  next_cursor: string | null;
}

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

/**
 * Record ids newest first (their keys are UUIDv7: key order is age), after
 * `cursor`: the keys of `records` themselves, or, given a `prefix`, the ids
 * of `index` entries `<prefix><id>` (a filtered list's index).
 */
export function* newestIds(records: Database<unknown, string>, index: Database<unknown, string>, prefix: string | undefined, cursor: string | undefined): Generator<string> {
  if (prefix === undefined) {
    for (const key of records.getKeys({ start: cursor ?? '\uffff', end: '', reverse: true })) if (key !== cursor) yield key;
    return;
  }
  const start = cursor !== undefined ? `${prefix}${cursor}` : `${prefix}\uffff`;
  for (const key of index.getKeys({ start, end: prefix, reverse: true })) {
    const id = key.slice(prefix.length);
    if (id !== cursor) yield id;
  }
}

/** `limit` as a page size, refused (naming the field) outside 1..MAX_PAGE; DEFAULT_PAGE when not given. */
export function pageLimit(limit: number | undefined): number {
  const n = limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) throw new ValidationError(`limit must be a whole number from 1 to ${MAX_PAGE}`, 'limit');
  return n;
}

/**
 * One page of the records of `ids` (newest first, see newestIds) that `get`
 * gives — it gives undefined for one gone or filtered out — and the cursor of
 * the next page (the last id taken) when another record follows.
 */
export function pageOfIds<T>(ids: Iterable<string>, limit: number | undefined, get: (id: string) => T | undefined): Page<T> {
  const size = pageLimit(limit);
  const items: T[] = [];
  let last: string | null = null;
  for (const id of ids) {
    const record = get(id);
    if (record === undefined) continue;
    if (items.length === size) return { items, next_cursor: last };
    items.push(record);
    last = id;
  }
  return { items, next_cursor: null };
}

/**
 * One page of the keys from `prefix` on, in key order, after `cursor` (a key
 * without the prefix, as the last page's `next_cursor` gave it).
 */
export function pageByKey<V, T>(db: Database<V, string>, prefix: string, q: PageQuery, item: (value: V) => T): Page<T> {
  const limit = pageLimit(q.limit);
  const after = q.cursor === undefined ? undefined : `${prefix}${q.cursor}`;
  const items: T[] = [];
  let last: string | null = null;
  let more = false;
  for (const { key, value } of db.getRange({ start: after ?? prefix, end: `${prefix}\uffff` })) {
    if (key === after) continue;
    if (items.length === limit) {
      more = true;
      break;
    }
    items.push(item(value));
    last = key.slice(prefix.length);
  }
  return { items, next_cursor: more ? last : null };
}
