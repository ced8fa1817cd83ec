/**
 * drafts.save, blueprints.validate, blueprints.promote on a real store: an
 * invalid draft is a report, its promotion refused for good (not retryable,
 * saying why); the fixed draft promoted once, and again a no-op; no DraftBook
 * is a clear error; a step's templates checked against the outputs they give.
 */
import { describe, expect, it } from 'vitest';
import { isRetryable } from '../../../src/core/errors.ts';
import { blueprintsPromote, blueprintsValidate, draftsSave, parseActionInput, type ActionContext } from '../../../src/xyn/actions/index.ts';
import { validateBlueprint } from '../../../src/xyn/blueprint/index.ts';
import { DraftBook } from '../../../src/xyn/drafts/index.ts';
import { busOnLogPerTest } from '../../kernel/helpers.ts';
import { validBlueprint } from '../helpers.ts';
import { actionContext, refusedField, twoActionBlueprint } from './helpers.ts';

const good = JSON.stringify(validBlueprint());
/** One issue: an unknown provider. */
const bad = JSON.stringify({ ...validBlueprint(), plan: (validBlueprint().plan as Record<string, unknown>[]).map((s, i) => (i === 0 ? { ...s, provider: 'nobody' } : s)) });

async function failure(p: Promise<unknown>): Promise<Error & { code: string }> {
  const err = await p.then(
    () => expect.fail('it succeeded'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error & { code: string };
}

describe('drafts actions', () => {
  let book: DraftBook;
  let ctx: ActionContext;
  const t = busOnLogPerTest((t) => {
    book = new DraftBook(t.store);
    ctx = { ...actionContext(t.bus), drafts: book };
  });

  it('saves, validates, refuses an invalid draft for good, then promotes the fixed one once', async () => {
    const saved = await draftsSave.execute(parseActionInput(draftsSave, { text: bad, file_name: 'flow.json' }), ctx);
    expect(saved).toEqual({ draft_id: expect.stringMatching(/^draft_/), revision: 1, definition_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(book.getDraft(saved.draft_id).revisions[0]?.by).toBe('xyn:run:run-1');

    const checked = await blueprintsValidate.execute(parseActionInput(blueprintsValidate, { draft_id: saved.draft_id }), ctx);
    expect(checked).toMatchObject({ draft_id: saved.draft_id, revision: 1, is_valid: false });
    expect(checked.issues).toEqual([{ path: 'plan[0].provider', message: expect.any(String) }]);
    expect(book.report(checked.report_sha256).is_valid).toBe(false);

    const refused = await failure(blueprintsPromote.execute({ draft_id: saved.draft_id, revision: 1 }, ctx));
    expect(isRetryable(refused)).toBe(false);
    expect(refused.code).toBe('conflict');
    expect(refused.message).toBe('revision 1 did not validate: 1 issue');

    const fixed = await draftsSave.execute({ draft_id: saved.draft_id, text: good, file_name: 'flow.json' }, ctx);
    expect(fixed.revision).toBe(2);
    // The same text again is no new revision.
    expect(await draftsSave.execute({ draft_id: saved.draft_id, text: good, file_name: 'flow.json' }, ctx)).toEqual(fixed);
    expect(await blueprintsValidate.execute({ draft_id: saved.draft_id, revision: 2 }, ctx)).toMatchObject({ revision: 2, is_valid: true, issues: [] });

    const promoted = await blueprintsPromote.execute({ draft_id: saved.draft_id, revision: 2 }, ctx);
    expect(promoted).toEqual({ blueprint_id: 'bp.test.flow', version: 1, definition_sha256: fixed.definition_sha256 });
    expect(await blueprintsPromote.execute({ draft_id: saved.draft_id, revision: 2 }, ctx)).toEqual(promoted);
    expect(book.getBlueprint('bp.test.flow').record.by).toBe('xyn:run:run-1');
    for (const action of [draftsSave, blueprintsValidate, blueprintsPromote]) expect(action.idempotent).toBe(true);
  });

  it("refuses what the book refuses, for good: a stale revision, a missing draft, input it can't take", async () => {
    const { draft_id } = await draftsSave.execute({ text: good, file_name: 'flow.json' }, ctx);
    await draftsSave.execute({ draft_id, text: `${good}\n`, file_name: 'flow.json' }, ctx);
    const stale = await failure(blueprintsPromote.execute({ draft_id, revision: 1 }, ctx));
    expect([isRetryable(stale), stale.message]).toEqual([false, 'revision 1 is stale: the draft is at revision 2']);
    const missing = await failure(blueprintsValidate.execute({ draft_id: 'draft_none' }, ctx));
    expect([isRetryable(missing), missing.code, missing.message]).toEqual([false, 'not_found', 'no draft draft_none']);
    expect(refusedField(draftsSave, { text: '' })).toBe('text');
    expect(refusedField(blueprintsPromote, { draft_id })).toBe('revision');
    expect(refusedField(blueprintsValidate, { draft_id, extra: 1 })).toBe('with');
  });

  it('fails clearly, not retried, on a node that keeps no drafts', async () => {
    const err = await failure(draftsSave.execute({ text: good }, actionContext(t.bus)));
    expect([isRetryable(err), err.code]).toEqual([false, 'NO_DRAFT_BOOK']);
    expect(err.message).toMatch(/^drafts\.save: this node keeps no drafts/);
  });

  it("checks a step's templates against the outputs drafts.save gives", () => {
    const bp = (output: string) => twoActionBlueprint({ id: 'save', action: 'drafts.save', with: { text: 'id: x' } }, { action: 'blueprints.validate', with: { draft_id: `{{steps.save.outputs.${output}}}` } });
    expect(validateBlueprint(bp('draft_id')).ok).toBe(true);
    const refused = validateBlueprint(bp('nope'));
    expect(refused.ok ? '' : refused.issues.map((i) => `${i.path}: ${i.message}`).join('\n')).toMatch(/plan\[1\]\.with\.draft_id.*nope/);
  });
});
