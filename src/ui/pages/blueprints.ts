/**
 * Blueprints and drafts (seed 004 §44.1): the promoted blueprints and the
 * drafts (`/ui/blueprints`), a blueprint's active text, versions and inputs
 * (`/ui/blueprints/:id`), a draft's text with its validation issues on the
 * lines they are about (`/ui/drafts/:id`), and the forms that save, validate
 * and promote — each through the drafts API (src/api/routes/drafts.ts), so a
 * page may do only what the principal's token may through the API.
 */
import { z } from 'zod';
import { BLUEPRINT_ID, DRAFT_ID } from '../../api/params.ts';
import { page, type PageRequest, type PageRoute } from '../../api/pages.ts';
import type { BlueprintVersion, DraftRecord, Page, PromotedBlueprint, ValidationReport } from '../../xyn/drafts/index.ts';
import { view } from '../render.ts';
import { placeIssues } from './draft-lines.ts';

/** `GET /api/v1/blueprints/:id`'s answer. */
type Blueprint = PromotedBlueprint & { text: string };
/** `GET /api/v1/drafts/:id`'s answer. */
type Draft = DraftRecord & { text: string; report: ValidationReport | null };

const PAGE_SIZE = 50;
const cursor = z.string().max(200).optional();
const listQuery = z.object({ blueprints_after: cursor, drafts_after: cursor });
const versionsQuery = z.object({ versions_after: cursor });
const draftId = z.string().regex(DRAFT_ID.pattern, { error: `expected ${DRAFT_ID.expected}` });
const editQuery = z.object({ draft_id: draftId.optional() });
const saveForm = z.object({
  // A browser sends a textarea's line breaks as CRLF: the draft keeps the text as it was typed.
  text: z
    .string({ error: 'paste the blueprint YAML (no text was sent)' })
    .refine((s) => s.trim() !== '', { error: 'paste the blueprint YAML (the text is empty)' })
    .transform((s) => s.replace(/\r\n?/g, '\n')),
  draft_id: z.union([z.literal(''), draftId]).optional(),
});
const promoteForm = z.object({ revision: z.coerce.number({ error: 'expected the number of the revision to promote' }).int().min(1) });

const blueprintPath = (id: string) => `/api/v1/blueprints/${encodeURIComponent(id)}`;
const draftPath = (id: string) => `/api/v1/drafts/${id}`;

/** What the drafts list says of a draft: its latest revision, whether that one validated, and whether it is promoted. */
function draftSummary(d: DraftRecord) {
  const latest = d.revisions.at(-1);
  const validated = d.validated?.revision === latest?.revision ? d.validated : undefined;
  return {
    ...d,
    latest,
    validation: validated ? (validated.is_valid ? 'valid' : `${validated.issues} issue${validated.issues === 1 ? '' : 's'}`) : 'not validated',
    valid: validated?.is_valid === true,
    promotedLatest: d.promoted !== undefined && d.promoted.revision === latest?.revision,
  };
}

async function blueprintRows(req: PageRequest, after: string | undefined) {
  const list = await req.api.json<Page<BlueprintVersion>>('GET', '/api/v1/blueprints', { query: { cursor: after, limit: PAGE_SIZE } });
  const rows = await Promise.all(
    list.items.map(async (record) => {
      const { definition } = await req.api.json<Blueprint>('GET', blueprintPath(record.blueprint_id));
      const newest = await req.api.json<Page<BlueprintVersion>>('GET', `${blueprintPath(record.blueprint_id)}/versions`, { query: { limit: 1 } });
      return { record, definition, versions: newest.items[0]?.version ?? record.version };
    }),
  );
  return { rows, next: list.next_cursor };
}

export function blueprintPages(): PageRoute[] {
  return [
    page({
      method: 'GET',
      path: '/ui/blueprints',
      capability: 'xyn:blueprints:read',
      summary: 'the promoted blueprints and the drafts',
      query: listQuery,
      async handle(req) {
        const blueprints = await blueprintRows(req, req.query.blueprints_after);
        const drafts = await req.api.json<Page<DraftRecord>>('GET', '/api/v1/drafts', { query: { cursor: req.query.drafts_after, limit: PAGE_SIZE } });
        return view(req, 'blueprints', { blueprints, drafts: { rows: drafts.items.map(draftSummary), next: drafts.next_cursor }, query: req.query });
      },
    }),
    page({
      method: 'GET',
      path: '/ui/blueprints/:id',
      params: { id: BLUEPRINT_ID },
      capability: 'xyn:blueprints:read',
      summary: "a blueprint: its active version's text, its versions, its inputs",
      query: versionsQuery,
      async handle(req) {
        const id = req.params.id as string;
        const versions = await req.api.json<Page<BlueprintVersion>>('GET', `${blueprintPath(id)}/versions`, { query: { cursor: req.query.versions_after, limit: PAGE_SIZE } });
        const blueprint = await req.api.json<Blueprint>('GET', blueprintPath(id));
        return view(req, 'blueprint', { blueprint, versions });
      },
    }),
    page({
      method: 'GET',
      path: '/ui/drafts/new',
      capability: 'xyn:blueprints:write',
      summary: 'the form that saves a blueprint text as a draft (or, given draft_id, as its next revision)',
      query: editQuery,
      async handle(req) {
        const draftId = req.query.draft_id;
        const text = draftId ? (await req.api.json<Draft>('GET', draftPath(draftId))).text : '';
        return view(req, 'draft-new', { draftId: draftId ?? '', text });
      },
    }),
    page({
      method: 'POST',
      path: '/ui/drafts',
      capability: 'xyn:blueprints:write',
      summary: 'saves the text as a draft (or a new revision of draft_id) and validates it',
      form: saveForm,
      async handle(req) {
        const draftId = req.form.draft_id || undefined;
        const saved = await req.api.json<{ draft_id: string }>('POST', '/api/v1/drafts', { body: { text: req.form.text, ...(draftId ? { draft_id: draftId } : {}) } });
        await req.api.call('POST', `${draftPath(saved.draft_id)}/validate`, { body: {} });
        return { redirect: `/ui/drafts/${saved.draft_id}` };
      },
    }),
    page({
      method: 'GET',
      path: '/ui/drafts/:draft_id',
      params: { draft_id: DRAFT_ID },
      capability: 'xyn:blueprints:read',
      summary: "a draft: its latest text with its last validation's issues on their lines",
      async handle(req) {
        const draft = await req.api.json<Draft>('GET', draftPath(req.params.draft_id as string));
        const summary = draftSummary(draft);
        const report = draft.report;
        const placed = placeIssues(draft.text, report && report.revision === summary.latest?.revision ? report.issues : []);
        return view(req, 'draft', { draft: summary, report, ...placed });
      },
    }),
    page({
      method: 'POST',
      path: '/ui/drafts/:draft_id/validate',
      params: { draft_id: DRAFT_ID },
      capability: 'xyn:blueprints:write',
      summary: "validates a draft's latest revision",
      form: z.object({}),
      async handle(req) {
        const id = req.params.draft_id as string;
        await req.api.call('POST', `${draftPath(id)}/validate`, { body: {} });
        return { redirect: `/ui/drafts/${id}` };
      },
    }),
    page({
      method: 'POST',
      path: '/ui/drafts/:draft_id/promote',
      params: { draft_id: DRAFT_ID },
      capability: 'xyn:blueprints:promote',
      summary: "promotes a draft's latest revision, validated valid, to its blueprint's active version",
      form: promoteForm,
      async handle(req) {
        const version = await req.api.json<BlueprintVersion>('POST', `${draftPath(req.params.draft_id as string)}/promote`, { body: { revision: req.form.revision } });
        return { redirect: `/ui/blueprints/${encodeURIComponent(version.blueprint_id)}` };
      },
    }),
  ];
}
