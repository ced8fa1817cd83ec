/**
 * Drafts on a real store: revisions, validation reports in the CAS,
 * promotion refused with the reason, frozen versions, paging, reopening, and
 * concurrent saves serialized by LMDB write transactions.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { ValidationError } from '../../src/core/errors.ts';
import { Cas } from '../../src/store/cas.ts';
import { openStore, type Store } from '../../src/store/env.ts';
import { BlueprintNotFoundError, ConflictError, DraftBook, DraftNotFoundError, MAX_DEFINITION_BYTES, type ValidationReport } from '../../src/xyn/drafts/index.ts';
import { tempDir } from '../kernel/helpers.ts';
import { validBlueprint } from './helpers.ts';

const FILE = 'flow.json';
const text = (change: (bp: Record<string, unknown>) => void = () => {}): string => {
  const bp = validBlueprint();
  change(bp);
  return JSON.stringify(bp, null, 2);
};
/** Two issues: an unknown provider and an unknown gate mode. */
const invalid = text((bp) => {
  const plan = bp.plan as Record<string, unknown>[];
  plan[0] = { ...plan[0], provider: 'nobody' };
  plan[1] = { ...plan[1], mode: 'sometimes' };
});

async function refusal(p: Promise<unknown>): Promise<ConflictError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConflictError);
  expect((err as ConflictError).code).toBe('conflict');
  return err as ConflictError;
}

describe('DraftBook', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: Store;
  let book: DraftBook;
  const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));

  beforeEach(() => {
    dir = tempDir();
    store = openStore({ path: dir.path });
    book = new DraftBook(store, clock);
  });
  afterEach(async () => {
    await store.close();
    dir.cleanup();
  });

  it('saves, validates, refuses and promotes, keeping frozen versions across a reopen', async () => {
    const first = await book.save({ text: text(), file_name: FILE, by: 'ana' });
    expect(first.revision).toBe(1);
    expect(first.draft_id).toMatch(/^draft_[0-9a-f]{16}$/);
    expect(first.saved_at).toBe('2026-12-01T00:00:00.000Z');
    clock.advance(1000);
    expect(await book.save({ draft_id: first.draft_id, text: text(), file_name: FILE, by: 'bo' })).toEqual(first);

    const second = await book.save({ draft_id: first.draft_id, text: invalid, file_name: FILE, by: 'ana' });
    expect(second.revision).toBe(2);
    expect(book.getDraft(first.draft_id).blueprint_id).toBe('bp.test.flow');
    const bad = await book.validate(first.draft_id);
    expect(bad.report).toMatchObject({ draft_id: first.draft_id, revision: 2, blueprint_id: 'bp.test.flow', is_valid: false });
    expect(bad.report.issues.map((i) => i.path).sort()).toEqual(['plan[0].provider', 'plan[1].mode']);
    expect((await refusal(book.promote(first.draft_id, { revision: 2, by: 'ana' }))).message).toBe('revision 2 did not validate: 2 issues');

    const third = await book.save({ draft_id: first.draft_id, text: text((bp) => (bp.name = 'Fixed flow')), file_name: FILE, by: 'ana' });
    expect(third.revision).toBe(3);
    expect((await refusal(book.promote(first.draft_id, { revision: 3, by: 'ana' }))).message).toBe('revision 3 has not been validated');
    const good = await book.validate(first.draft_id);
    expect(good.report).toMatchObject({ revision: 3, is_valid: true, issues: [] });
    expect(book.getDraft(first.draft_id).validated).toEqual({ revision: 3, report_sha256: good.report_sha256, is_valid: true, issues: 0 });
    expect((await refusal(book.promote(first.draft_id, { revision: 2, by: 'ana' }))).message).toBe('revision 2 is stale: the draft is at revision 3');
    // Checking the stale revision again keeps the latest's validation, which promotion needs.
    expect((await book.validate(first.draft_id, { revision: 2 })).report.revision).toBe(2);
    expect(book.getDraft(first.draft_id).validated?.report_sha256).toBe(good.report_sha256);

    const v1 = await book.promote(first.draft_id, { revision: 3, by: 'cy' });
    expect(v1).toMatchObject({ blueprint_id: 'bp.test.flow', version: 1, definition_sha256: third.definition_sha256, draft_id: first.draft_id, revision: 3, by: 'cy' });
    expect(v1.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(await book.promote(first.draft_id, { revision: 3, by: 'dee' })).toEqual(v1);
    // The same definition from another draft is the active version already.
    const other = await book.save({ text: text((bp) => (bp.name = 'Fixed flow')), file_name: FILE, by: 'eve' });
    await book.validate(other.draft_id);
    expect(await book.promote(other.draft_id, { revision: 1, by: 'eve' })).toEqual(v1);
    await expect(book.promote(other.draft_id, { revision: 1, by: '' })).rejects.toMatchObject({ field: 'by' });
    expect(book.getBlueprint('bp.test.flow').definition.name).toBe('Fixed flow');

    // The report artifact is in the CAS under its sha256.
    const stored = new Cas(store).get(bad.report_sha256);
    expect(JSON.parse(new TextDecoder().decode(stored)) as ValidationReport).toEqual(bad.report);

    // A changed definition, validated and promoted, is version 2; version 1 stays as it was.
    await book.save({ draft_id: first.draft_id, text: text((bp) => (bp.name = 'Second flow')), file_name: FILE, by: 'ana' });
    await book.validate(first.draft_id);
    const v2 = await book.promote(first.draft_id, { revision: 4, by: 'ana' });
    expect(v2.version).toBe(2);

    await store.close();
    store = openStore({ path: dir.path });
    book = new DraftBook(store, clock);
    expect(book.getBlueprint('bp.test.flow')).toMatchObject({ record: v2, definition: { name: 'Second flow' } });
    expect(book.getBlueprint('bp.test.flow', { version: 1 })).toMatchObject({ record: v1, definition: { name: 'Fixed flow' } });
    expect(book.getDraft(first.draft_id)).toMatchObject({ revisions: [{ revision: 1 }, { revision: 2 }, { revision: 3 }, { revision: 4 }], promoted: { revision: 4, version: 2 } });
    expect(book.report(good.report_sha256)).toEqual(good.report);
    expect(book.draftText(first.draft_id, 2)).toBe(invalid);
  });

  it('reads YAML by default and reports a text that does not parse', async () => {
    const { draft_id } = await book.save({ text: 'id: [unclosed', by: 'ana' });
    expect(book.getDraft(draft_id).blueprint_id).toBeNull();
    const { report } = await book.validate(draft_id);
    expect(report).toMatchObject({ is_valid: false, blueprint_id: null });
    expect(report.issues[0]?.path).toBe('(file)');
    expect(report.issues[0]?.message).toMatch(/^not valid YAML/);
  });

  it('refuses empty and oversized text, naming the field', async () => {
    for (const bad of ['', '  \n', 'x'.repeat(MAX_DEFINITION_BYTES + 1)]) {
      const err = await book.save({ text: bad, by: 'ana' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe('text');
    }
    expect(book.listDrafts().items).toEqual([]);
  });

  it('says not found for an unknown draft, revision or blueprint', async () => {
    await expect(book.save({ draft_id: 'draft_none', text: text(), by: 'ana' })).rejects.toThrow(DraftNotFoundError);
    await expect(book.validate('draft_none')).rejects.toMatchObject({ code: 'not_found', message: 'no draft draft_none' });
    const { draft_id } = await book.save({ text: text(), file_name: FILE, by: 'ana' });
    await expect(book.validate(draft_id, { revision: 7 })).rejects.toMatchObject({ code: 'not_found', message: `draft ${draft_id} has no revision 7` });
    await expect(book.promote(draft_id, { revision: 7, by: 'ana' })).rejects.toThrow(DraftNotFoundError);
    expect(() => book.getDraft('draft_none')).toThrow(DraftNotFoundError);
    expect(() => book.getBlueprint('bp.none')).toThrow(BlueprintNotFoundError);
    await book.validate(draft_id);
    await book.promote(draft_id, { revision: 1, by: 'ana' });
    expect(() => book.getBlueprint('bp.test.flow', { version: 2 })).toThrow('blueprint bp.test.flow has no version 2');
  });

  it('pages drafts and blueprints by cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { draft_id } = await book.save({ text: text((bp) => (bp.id = `bp.page.${i}`)), file_name: FILE, by: 'ana' });
      ids.push(draft_id);
      await book.validate(draft_id);
      await book.promote(draft_id, { revision: 1, by: 'ana' });
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = book.listDrafts({ cursor, limit: 2 });
      seen.push(...page.items.map((d) => d.draft_id));
      cursor = page.next_cursor ?? undefined;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].sort());

    const first = book.listBlueprints({ limit: 3 });
    expect(first.items.map((b) => b.blueprint_id)).toEqual(['bp.page.0', 'bp.page.1', 'bp.page.2']);
    expect(first.next_cursor).toBe('bp.page.2');
    const rest = book.listBlueprints({ cursor: first.next_cursor ?? undefined, limit: 3 });
    expect(rest).toEqual({ items: [expect.objectContaining({ blueprint_id: 'bp.page.3', version: 1 }), expect.objectContaining({ blueprint_id: 'bp.page.4' })], next_cursor: null });
    expect(() => book.listDrafts({ limit: 0 })).toThrow(ValidationError);
  });

  it('serializes concurrent saves of one draft into consecutive revisions', async () => {
    const { draft_id } = await book.save({ text: text(), file_name: FILE, by: 'ana' });
    const saves = await Promise.all([
      book.save({ draft_id, text: text((bp) => (bp.name = 'A')), file_name: FILE, by: 'ana' }),
      book.save({ draft_id, text: text((bp) => (bp.name = 'B')), file_name: FILE, by: 'bo' }),
    ]);
    expect(saves.map((s) => s.revision).sort()).toEqual([2, 3]);
    expect(book.getDraft(draft_id).revisions.map((r) => [r.revision, r.by])).toEqual([
      [1, 'ana'],
      [2, 'ana'],
      [3, 'bo'],
    ]);
  });
});
