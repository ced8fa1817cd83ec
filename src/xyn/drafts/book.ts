/**
 * Drafts of blueprints, their validation reports, and promotion to frozen,
 * versioned blueprints (the spec's `drafts.save`, `blueprints.validate`,
 * `blueprints.promote`). Every change is one LMDB write transaction that reads
 * the record, checks, and writes it back (CAS blobs included), so concurrent
 * calls are serialized: two saves of one draft get consecutive revisions.
 *
 *   const book = new DraftBook(store);
 *   const { draft_id, revision } = await book.save({ text, by: 'ana' });
 *   const { report } = await book.validate(draft_id);
 *   if (report.is_valid) await book.promote(draft_id, { revision, by: 'ana' });
 */
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../../core/clock.ts';
import { ValidationError, XynError } from '../../core/errors.ts';
import { addCasRefs, Cas, casDb, casRefsDb, sha256Hex } from '../../store/cas.ts';
import type { Store } from '../../store/env.ts';
import { blueprintDigest, parseBlueprintText, validateBlueprint, type Blueprint, type BlueprintResult } from '../blueprint/index.ts';
import { BlueprintNotFoundError, ConflictError, DraftNotFoundError } from './errors.ts';
import {
  blueprintsDb,
  draftsDb,
  headKey,
  pageByKey,
  pageLimit,
  versionKey,
  type BlueprintHead,
  type BlueprintVersion,
  type DraftRecord,
  type DraftRevision,
  type Page,
  type PageQuery,
  type ValidationReport,
} from './records.ts';

/** Largest definition text accepted, in UTF-8 bytes. */
export const MAX_DEFINITION_BYTES = 1024 * 1024;
const DEFAULT_FILE_NAME = 'draft.yaml';

export interface SaveInput {
  /** Absent: a new draft. */
  draft_id?: string;
  text: string;
  /** How the text is read: JSON when it ends in .json, YAML otherwise. */
  file_name?: string;
  by: string;
}

export interface Saved {
  draft_id: string;
  revision: number;
  definition_sha256: string;
  saved_at: string;
}

export interface Validated {
  report: ValidationReport;
  report_sha256: string;
}

export interface PromotedBlueprint {
  record: BlueprintVersion;
  definition: Blueprint;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The definition of a text, checked: its parse and validation as one result. */
function checkText(text: string, fileName: string): BlueprintResult {
  const parsed = parseBlueprintText(text, fileName);
  return parsed.ok ? validateBlueprint(parsed.value) : parsed;
}

function idOf(text: string, fileName: string): string | null {
  const parsed = parseBlueprintText(text, fileName);
  const id = parsed.ok ? (parsed.value as { id?: unknown } | null)?.id : undefined;
  return typeof id === 'string' ? id : null;
}

export class DraftBook {
  private readonly drafts;
  private readonly blueprints;
  private readonly blobs;
  private readonly refs;
  private readonly cas: Cas;
  private readonly promotedListeners = new Set<(version: BlueprintVersion) => void>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock = systemClock,
  ) {
    this.drafts = draftsDb(store);
    this.blueprints = blueprintsDb(store);
    this.blobs = casDb(store);
    this.refs = casRefsDb(store);
    this.cas = new Cas(store);
  }

  /** A new draft, or a new revision of one; the same text as its latest revision changes nothing. */
  async save(input: SaveInput): Promise<Saved> {
    if (typeof input.text !== 'string' || input.text.trim() === '') throw new ValidationError('text must be a non-empty string', 'text');
    const bytes = encoder.encode(input.text);
    if (bytes.length > MAX_DEFINITION_BYTES) throw new ValidationError(`text is ${bytes.length} bytes, more than ${MAX_DEFINITION_BYTES}`, 'text');
    requireBy(input.by);
    const fileName = input.file_name ?? DEFAULT_FILE_NAME;
    const sha = sha256Hex(bytes);
    const blueprintId = idOf(input.text, fileName);
    const draftId = input.draft_id ?? `draft_${randomBytes(8).toString('hex')}`;
    return this.store.write(() => {
      const record: DraftRecord = input.draft_id === undefined ? { draft_id: draftId, blueprint_id: null, revisions: [] } : this.draft(draftId);
      const latest = record.revisions.at(-1);
      if (latest?.definition_sha256 === sha && latest.file_name === fileName) return saved(draftId, latest);
      const revision: DraftRevision = { revision: (latest?.revision ?? 0) + 1, definition_sha256: sha, file_name: fileName, saved_at: this.now(), by: input.by };
      this.putBlob(`draft:${draftId}`, sha, bytes);
      void this.drafts.put(draftId, { ...record, blueprint_id: blueprintId, revisions: [...record.revisions, revision] });
      return saved(draftId, revision);
    });
  }

  /** Validates a revision (default: the latest); the report goes to the CAS and is recorded on the draft. */
  async validate(draftId: string, opts: { revision?: number } = {}): Promise<Validated> {
    const rev = this.revisionOf(this.draft(draftId), opts.revision);
    const text = this.text(rev.definition_sha256);
    const result = checkText(text, rev.file_name);
    const report: ValidationReport = {
      draft_id: draftId,
      revision: rev.revision,
      blueprint_id: result.ok ? result.blueprint.id : idOf(text, rev.file_name),
      is_valid: result.ok,
      issues: result.ok ? [] : result.issues,
      validated_at: this.now(),
    };
    const bytes = encoder.encode(JSON.stringify(report));
    const reportSha = sha256Hex(bytes);
    await this.store.write(() => {
      const record = this.draft(draftId);
      this.putBlob(`draft:${draftId}`, reportSha, bytes);
      // A check of an older revision does not displace that of a newer one (which promotion needs).
      if (rev.revision < (record.validated?.revision ?? 0)) return;
      void this.drafts.put(draftId, { ...record, validated: { revision: rev.revision, report_sha256: reportSha, is_valid: report.is_valid, issues: report.issues.length } });
    });
    return { report, report_sha256: reportSha };
  }

  /**
   * Freezes the draft's latest revision, validated valid, as the next version
   * of its blueprint and makes it active. Anything else is a ConflictError
   * saying why; the definition already active is returned as it is.
   */
  async promote(draftId: string, opts: { revision: number; by: string }): Promise<BlueprintVersion> {
    requireBy(opts.by);
    let promoted: BlueprintVersion | undefined;
    const version = await this.store.write(() => {
      const record = this.draft(draftId);
      const rev = this.revisionOf(record, opts.revision);
      const latest = record.revisions.at(-1) as DraftRevision;
      if (rev.revision !== latest.revision) throw new ConflictError(`revision ${rev.revision} is stale: the draft is at revision ${latest.revision}`, { draft_id: draftId, revision: rev.revision, latest: latest.revision });
      const validated = record.validated?.revision === rev.revision ? record.validated : undefined;
      if (!validated) throw new ConflictError(`revision ${rev.revision} has not been validated`, { draft_id: draftId, revision: rev.revision });
      if (!validated.is_valid) throw new ConflictError(`revision ${rev.revision} did not validate: ${validated.issues} issue${validated.issues === 1 ? '' : 's'}`, { draft_id: draftId, revision: rev.revision, report_sha256: validated.report_sha256 });
      const definition = this.definition(rev);
      const id = definition.id;
      const head = this.blueprints.get(headKey(id)) as BlueprintHead | undefined;
      const active = head ? (this.blueprints.get(versionKey(id, head.active_version)) as BlueprintVersion) : undefined;
      if (active?.definition_sha256 === rev.definition_sha256) return active;
      const version = (head?.latest_version ?? 0) + 1;
      const frozen: BlueprintVersion = {
        blueprint_id: id,
        version,
        definition_sha256: rev.definition_sha256,
        file_name: rev.file_name,
        digest: blueprintDigest(definition),
        draft_id: draftId,
        revision: rev.revision,
        promoted_at: this.now(),
        by: opts.by,
      };
      addCasRefs(this.refs, `blueprint:${id}`, [rev.definition_sha256]);
      void this.blueprints.put(versionKey(id, version), frozen);
      void this.blueprints.put(headKey(id), { blueprint_id: id, active_version: version, latest_version: version } satisfies BlueprintHead);
      void this.drafts.put(draftId, { ...record, promoted: { revision: rev.revision, blueprint_id: id, version, promoted_at: frozen.promoted_at } });
      promoted = frozen;
      return frozen;
    });
    if (promoted) for (const listener of this.promotedListeners) listener(promoted);
    return version;
  }

  /** Calls `listener` with each version made active from now on (not with one that was already active); returns the way to stop. */
  onPromoted(listener: (version: BlueprintVersion) => void): () => void {
    this.promotedListeners.add(listener);
    return () => this.promotedListeners.delete(listener);
  }

  getDraft(draftId: string): DraftRecord {
    return this.draft(draftId);
  }

  /** A revision's definition text (default: the latest). */
  draftText(draftId: string, revision?: number): string {
    return this.text(this.revisionOf(this.draft(draftId), revision).definition_sha256);
  }

  listDrafts(q: PageQuery = {}): Page<DraftRecord> {
    return pageByKey(this.drafts, '', q, (r) => r);
  }

  /** A promoted blueprint's version (default: the active one) and its definition. */
  getBlueprint(blueprintId: string, opts: { version?: number } = {}): PromotedBlueprint {
    const head = this.blueprints.get(headKey(blueprintId)) as BlueprintHead | undefined;
    if (!head) throw new BlueprintNotFoundError(blueprintId);
    const record = this.blueprints.get(versionKey(blueprintId, opts.version ?? head.active_version)) as BlueprintVersion | undefined;
    if (!record) throw new BlueprintNotFoundError(blueprintId, opts.version);
    return { record, definition: this.definition(record) };
  }

  /** A promoted blueprint's versions, newest first, below version `cursor` (a page's `next_cursor`) when given. */
  listVersions(blueprintId: string, q: { cursor?: number; limit?: number } = {}): Page<BlueprintVersion> {
    const head = this.blueprints.get(headKey(blueprintId)) as BlueprintHead | undefined;
    if (!head) throw new BlueprintNotFoundError(blueprintId);
    const limit = pageLimit(q.limit);
    const items: BlueprintVersion[] = [];
    // Versions are numbered 1..latest_version, none ever removed.
    for (let v = Math.min(head.latest_version, (q.cursor ?? Infinity) - 1); v >= 1 && items.length < limit; v--) {
      items.push(this.blueprints.get(versionKey(blueprintId, v)) as BlueprintVersion);
    }
    const last = items.at(-1)?.version ?? 1;
    return { items, next_cursor: last > 1 ? String(last) : null };
  }

  /** The active version of each promoted blueprint, by id. */
  listBlueprints(q: PageQuery = {}): Page<BlueprintVersion> {
    return pageByKey(this.blueprints, 'head:', q, (h) => this.blueprints.get(versionKey(h.blueprint_id, (h as BlueprintHead).active_version)) as BlueprintVersion);
  }

  /** A stored report artifact, parsed. */
  report(reportSha: string): ValidationReport {
    return JSON.parse(this.text(reportSha)) as ValidationReport;
  }

  private draft(draftId: string): DraftRecord {
    const record = this.drafts.get(draftId);
    if (!record) throw new DraftNotFoundError(draftId);
    return record;
  }

  private revisionOf(record: DraftRecord, revision?: number): DraftRevision {
    const rev = revision === undefined ? record.revisions.at(-1) : record.revisions.find((r) => r.revision === revision);
    if (!rev) throw new DraftNotFoundError(record.draft_id, revision);
    return rev;
  }

  /** The parsed definition of text that validated when it was promoted. */
  private definition(rev: Pick<DraftRevision, 'definition_sha256' | 'file_name'>): Blueprint {
    const result = checkText(this.text(rev.definition_sha256), rev.file_name);
    if (!result.ok) throw new ConflictError(`definition ${rev.definition_sha256} no longer validates: ${result.issues[0]?.path}: ${result.issues[0]?.message}`);
    return result.blueprint;
  }

  private text(sha: string): string {
    const bytes = this.cas.get(sha);
    if (!bytes) throw new XynError(`CAS blob ${sha} is missing from the store`, 'MISSING_BLOB', { sha256: sha });
    return decoder.decode(bytes);
  }

  /** Inside a write: stores a blob, held by `owner`. */
  private putBlob(owner: string, sha: string, bytes: Uint8Array): void {
    if (this.blobs.getBinaryFast(sha) === undefined) void this.blobs.put(sha, bytes);
    addCasRefs(this.refs, owner, [sha]);
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

function requireBy(by: unknown): void {
  if (typeof by !== 'string' || by === '') throw new ValidationError('by must name who acts', 'by');
}

function saved(draftId: string, rev: DraftRevision): Saved {
  return { draft_id: draftId, revision: rev.revision, definition_sha256: rev.definition_sha256, saved_at: rev.saved_at };
}
