/**
 * Blueprint drafts and promoted blueprints over HTTP (xyn/drafts): save a
 * draft's text in revisions, validate a revision into a report, promote the
 * latest valid revision to a frozen blueprint version, and read them back.
 * Reading needs `xyn:blueprints:read`; saving and validating
 * `xyn:blueprints:write`; promoting — what makes a version active —
 * `xyn:blueprints:promote`. Each change is audited (`draft.save`,
 * `draft.validate`, `blueprint.promote`).
 */
import { z } from 'zod';
import type { Bus } from '../../kernel/bus.ts';
import { publishAudit } from '../../kernel/audit.ts';
import { MAX_DEFINITION_BYTES, type DraftBook } from '../../xyn/drafts/index.ts';
import { BLUEPRINT_ID, DRAFT_ID } from '../params.ts';
import { route, type ApiRequest, type Route } from '../router.ts';

const saveBody = z.strictObject({
  text: z.string().min(1).max(MAX_DEFINITION_BYTES).describe('the definition: YAML, or JSON when file_name ends in .json'),
  file_name: z.string().min(1).max(255).optional().describe('how the text is read (default draft.yaml)'),
  draft_id: z.string().regex(DRAFT_ID.pattern, { error: `expected ${DRAFT_ID.expected}` }).optional().describe('absent: a new draft'),
});

const revision = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const validateBody = z.strictObject({ revision: revision.optional().describe('default: the latest') });
const promoteBody = z.strictObject({ revision: revision.describe('the latest revision, validated valid') });

const pageQuery = (cursor: { pattern: RegExp; expected: string }) =>
  z.object({
    cursor: z.string().regex(cursor.pattern, { error: `expected ${cursor.expected} (the next_cursor of the page before)` }).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  });

const versionQuery = z.object({ version: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional().describe('default: the active version') });

const versionsQuery = z.object({
  cursor: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional().describe('the next_cursor of the page before: versions below it'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const NO_DRAFT = 'no draft with that id (or no such revision of it)';

export function draftRoutes(book: DraftBook, bus: Bus): Route[] {
  const id = (req: ApiRequest): string => req.params.id as string;
  const audit = (req: ApiRequest, operation: string, details: Record<string, unknown>) =>
    publishAudit(bus, { user: req.principal.id, role: req.principal.role, operation, details }, { correlation_id: req.correlationId });
  return [
    route({
      method: 'POST',
      path: '/api/v1/drafts',
      capability: 'xyn:blueprints:write',
      summary: "save a blueprint's text as a new draft, or a new revision of one (draft_id)",
      body: saveBody,
      answers: { 201: '{draft_id, revision, definition_sha256, saved_at}; the same text as the latest revision answers that revision (201 too)', 404: NO_DRAFT },
      async handle(req) {
        const { text, file_name, draft_id } = req.body;
        const saved = await book.save({ text, by: req.principal.id, ...(file_name !== undefined ? { file_name } : {}), ...(draft_id !== undefined ? { draft_id } : {}) });
        await audit(req, 'draft.save', { draft_id: saved.draft_id, revision: saved.revision, definition_sha256: saved.definition_sha256 });
        return { status: 201, body: saved };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/drafts',
      capability: 'xyn:blueprints:read',
      summary: 'the drafts, by id, a page at a time',
      query: pageQuery(DRAFT_ID),
      answers: { 200: '{items, next_cursor}: draft records; next_cursor null on the last page' },
      handle: (req) => ({ body: book.listDrafts(req.query) }),
    }),
    {
      method: 'GET',
      path: '/api/v1/drafts/:id',
      params: { id: DRAFT_ID },
      capability: 'xyn:blueprints:read',
      summary: "a draft's record (revisions, last validation, last promotion), its latest text and its last validation report",
      answers: { 200: "the draft record with text (the latest revision's) and report (the last validation's {is_valid, issues, revision, ...}; null before any)", 404: NO_DRAFT },
      handle(req) {
        const draft = book.getDraft(id(req));
        return { body: { ...draft, text: book.draftText(id(req)), report: draft.validated ? book.report(draft.validated.report_sha256) : null } };
      },
    },
    route({
      method: 'POST',
      path: '/api/v1/drafts/:id/validate',
      params: { id: DRAFT_ID },
      capability: 'xyn:blueprints:write',
      summary: "validate a draft's revision (default the latest): the report, stored as an artifact",
      body: validateBody,
      answers: { 200: '{report: {is_valid, issues, ...}, report_sha256}: an invalid blueprint is a report, not an error', 404: NO_DRAFT },
      async handle(req) {
        const validated = await book.validate(id(req), req.body.revision !== undefined ? { revision: req.body.revision } : {});
        const { report } = validated;
        await audit(req, 'draft.validate', { draft_id: id(req), revision: report.revision, is_valid: report.is_valid, issues: report.issues.length, report_sha256: validated.report_sha256 });
        return { body: validated };
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/drafts/:id/promote',
      params: { id: DRAFT_ID },
      capability: 'xyn:blueprints:promote',
      summary: "freeze a draft's latest validated revision as its blueprint's next version, made active",
      body: promoteBody,
      answers: {
        200: 'the blueprint version record {blueprint_id, version, definition_sha256, digest, draft_id, revision, promoted_at, by}; the definition already active answers its version',
        404: NO_DRAFT,
        409: 'the revision is stale, not validated, or did not validate (the message says which)',
      },
      async handle(req) {
        const version = await book.promote(id(req), { revision: req.body.revision, by: req.principal.id });
        await audit(req, 'blueprint.promote', { draft_id: id(req), revision: req.body.revision, blueprint_id: version.blueprint_id, version: version.version });
        return { body: version };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/blueprints',
      capability: 'xyn:blueprints:read',
      summary: 'the promoted blueprints (their active versions), by id, a page at a time',
      query: pageQuery(BLUEPRINT_ID),
      answers: { 200: '{items, next_cursor}: blueprint version records; next_cursor null on the last page' },
      handle: (req) => ({ body: book.listBlueprints(req.query) }),
    }),
    route({
      method: 'GET',
      path: '/api/v1/blueprints/:id',
      params: { id: BLUEPRINT_ID },
      capability: 'xyn:blueprints:read',
      summary: "a promoted blueprint's version (default the active one), its definition and its text",
      query: versionQuery,
      answers: { 200: '{record, definition, text}: text is the definition as it was written (the promoted draft revision\'s)', 404: 'no promoted blueprint with that id, or no such version' },
      handle(req) {
        const found = book.getBlueprint(id(req), req.query.version !== undefined ? { version: req.query.version } : {});
        return { body: { ...found, text: book.draftText(found.record.draft_id, found.record.revision) } };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/blueprints/:id/versions',
      params: { id: BLUEPRINT_ID },
      capability: 'xyn:blueprints:read',
      summary: "a promoted blueprint's versions, newest first, a page at a time",
      query: versionsQuery,
      answers: { 200: '{items, next_cursor}: blueprint version records; next_cursor null on the last page', 404: 'no promoted blueprint with that id' },
      handle: (req) => ({ body: book.listVersions(id(req), req.query) }),
    }),
  ];
}
