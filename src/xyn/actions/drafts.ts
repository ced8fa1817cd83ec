/**
 * `drafts.save`, `blueprints.validate`, `blueprints.promote`: a workflow step
 * writes a blueprint draft, checks it, and promotes it, through the node's
 * DraftBook (`ctx.drafts`, a DraftsPort) — the same service the drafts routes call.
 *
 *   const { draft_id, revision } = await draftsSave.execute({ text }, ctx);
 *   const { is_valid, issues } = await blueprintsValidate.execute({ draft_id }, ctx);
 *   if (is_valid) await blueprintsPromote.execute({ draft_id, revision }, ctx); // { blueprint_id, version, definition_sha256 }
 *
 * Why these choices:
 * - All three idempotent. Saving the text a draft's latest revision already
 *   holds is no new revision (the same draft_id and revision come back);
 *   validating again writes the same report; promoting the definition already
 *   active returns its version. (Without `draft_id`, a re-run after a crash
 *   between the save and the step's record leaves one more unpromoted draft;
 *   nothing else changes.)
 * - What the book refuses is refused again on a retry, so it fails the step
 *   at once, its message kept: a promotion refused (stale, not validated, did
 *   not validate) or a missing draft is not retryable (code `conflict` /
 *   `not_found`), a text the book refuses is the step's input error.
 * - An invalid draft is not an error of `blueprints.validate`: it gives
 *   `is_valid: false` and the issues, for a later step to act on.
 * - Saved `by` `xyn:run:<runId>`, so the audit names the run.
 */
import { z } from 'zod';
import { NonRetryableError, ValidationError, XynError } from '../../core/errors.ts';
import type { Action, ActionContext, DraftsPort } from './action.ts';
import { ActionAbortedError, ActionInputError } from './errors.ts';

const draftId = z.string().min(1);
const revision = z.number().int().positive();
const sha256 = z.string();

const saveInput = z.strictObject({ text: z.string().min(1), file_name: z.string().min(1).optional(), draft_id: draftId.optional() });
const saveOutput = z.object({ draft_id: z.string(), revision: z.number().int(), definition_sha256: sha256 });
const validateInput = z.strictObject({ draft_id: draftId, revision: revision.optional() });
const validateOutput = z.object({
  draft_id: z.string(),
  revision: z.number().int(),
  is_valid: z.boolean(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })),
  report_sha256: sha256,
});
const promoteInput = z.strictObject({ draft_id: draftId, revision });
const promoteOutput = z.object({ blueprint_id: z.string(), version: z.number().int(), definition_sha256: sha256 });

export type DraftsSaveInput = z.output<typeof saveInput>;
export type DraftsSaveOutput = z.output<typeof saveOutput>;
export type BlueprintsValidateInput = z.output<typeof validateInput>;
export type BlueprintsValidateOutput = z.output<typeof validateOutput>;
export type BlueprintsPromoteInput = z.output<typeof promoteInput>;
export type BlueprintsPromoteOutput = z.output<typeof promoteOutput>;

/** One of these actions: `run` against the node's DraftBook, the book's refusals made not retryable. */
function draftAction<I, O>(name: string, input: z.ZodType<I>, output: z.ZodObject & z.ZodType<O>, run: (book: DraftsPort, input: I, ctx: ActionContext) => Promise<O>): Action<I, O> {
  return {
    name,
    input,
    output,
    idempotent: true,
    async execute(sub, ctx) {
      const book = ctx.drafts;
      if (!book) throw new NonRetryableError(`${name}: this node keeps no drafts: a workflow can use drafts only on a node started with its store`, 'NO_DRAFT_BOOK');
      if (ctx.signal.aborted) throw new ActionAbortedError(name);
      try {
        return await run(book, sub, ctx);
      } catch (err) {
        if (err instanceof ValidationError) throw new ActionInputError(`${name}: with.${err.field}: ${err.message}`, err.field);
        // The book's refusals (ConflictError, DraftNotFoundError), known by their codes: the same call is refused again.
        if (err instanceof XynError && (err.code === 'conflict' || err.code === 'not_found')) throw new NonRetryableError(err.message, err.code, { ...err.details, action: name });
        throw err;
      }
    },
  };
}

export const draftsSave = draftAction('drafts.save', saveInput, saveOutput, async (book, sub, ctx) => {
  const saved = await book.save({ draft_id: sub.draft_id, text: sub.text, file_name: sub.file_name, by: `xyn:run:${ctx.runId}` });
  return { draft_id: saved.draft_id, revision: saved.revision, definition_sha256: saved.definition_sha256 };
});

export const blueprintsValidate = draftAction('blueprints.validate', validateInput, validateOutput, async (book, sub) => {
  const { report, report_sha256 } = await book.validate(sub.draft_id, { revision: sub.revision });
  const issues = report.issues.map((i) => ({ path: i.path, message: i.message }));
  return { draft_id: report.draft_id, revision: report.revision, is_valid: report.is_valid, issues, report_sha256 };
});

export const blueprintsPromote = draftAction('blueprints.promote', promoteInput, promoteOutput, async (book, sub, ctx) => {
  const v = await book.promote(sub.draft_id, { revision: sub.revision, by: `xyn:run:${ctx.runId}` });
  return { blueprint_id: v.blueprint_id, version: v.version, definition_sha256: v.definition_sha256 };
});
