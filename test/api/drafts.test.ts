/**
 * Drafts and promoted blueprints over HTTP, against a real node: the whole
 * flow (save, a failed validation, a refused promotion, the fix, promotion,
 * the blueprint read back), refusals as 4xx naming why, who may do what,
 * and the audit records of each change.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type Answer, type TestApi } from './helpers.ts';

const FILE = 'blueprints/workflows/nightly-health.yaml';
const good = readFileSync(FILE, 'utf8');
const bad = good.replace('kind: transform', 'kind: teleport');

let api: TestApi;
beforeAll(async () => {
  api = await startApi({}, { hxo: false });
});
afterAll(async () => {
  await api?.close();
});

function expectStatus(answer: Answer, status: number): Record<string, unknown> {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  return answer.body;
}

const errorOf = (answer: Answer) => answer.body.error as { code: string; message: string };

describe('drafts and blueprints over HTTP', () => {
  it('save → invalid validate → 409 promote → fix → validate → promote → GET blueprint; audited', async () => {
    const saved = expectStatus(await api.call('POST', '/api/v1/drafts', { token: api.tokens.operator, body: { text: bad, file_name: 'nightly-health.yaml' } }), 201);
    const draftId = saved.draft_id as string;
    expect(draftId).toMatch(/^draft_[0-9a-f]{16}$/);
    expect(saved.revision).toBe(1);

    const failed = expectStatus(await api.call('POST', `/api/v1/drafts/${draftId}/validate`, { token: api.tokens.operator, body: {} }), 200);
    const report = failed.report as { is_valid: boolean; issues: { path: string }[] };
    expect(report.is_valid).toBe(false);
    expect(report.issues.length).toBeGreaterThan(0);
    expect(failed.report_sha256).toMatch(/^[0-9a-f]{64}$/);

    const refused = await api.call('POST', `/api/v1/drafts/${draftId}/promote`, { body: { revision: 1 } });
    expectStatus(refused, 409);
    expect(errorOf(refused)).toMatchObject({ code: 'conflict', message: expect.stringMatching(/did not validate/) });

    const fixed = expectStatus(await api.call('POST', '/api/v1/drafts', { token: api.tokens.operator, body: { text: good, file_name: 'nightly-health.yaml', draft_id: draftId } }), 201);
    expect(fixed).toMatchObject({ draft_id: draftId, revision: 2 });
    const unvalidated = await api.call('POST', `/api/v1/drafts/${draftId}/promote`, { body: { revision: 2 } });
    expectStatus(unvalidated, 409);
    expect(errorOf(unvalidated).message).toMatch(/not been validated/);

    const passed = expectStatus(await api.call('POST', `/api/v1/drafts/${draftId}/validate`, { token: api.tokens.operator, body: { revision: 2 } }), 200);
    expect((passed.report as { is_valid: boolean }).is_valid).toBe(true);
    const promoted = expectStatus(await api.call('POST', `/api/v1/drafts/${draftId}/promote`, { body: { revision: 2 } }), 200);
    expect(promoted).toMatchObject({ blueprint_id: 'examples.nightly_health', version: 1, draft_id: draftId, revision: 2, by: 'admiral-user' });

    const draft = expectStatus(await api.call('GET', `/api/v1/drafts/${draftId}`, { token: api.tokens.viewer }), 200);
    expect(draft).toMatchObject({ draft_id: draftId, blueprint_id: 'examples.nightly_health', text: good, promoted: { version: 1 } });
    expect((draft.revisions as unknown[]).length).toBe(2);

    const blueprint = expectStatus(await api.call('GET', '/api/v1/blueprints/examples.nightly_health', { token: api.tokens.viewer }), 200);
    expect(blueprint.record).toMatchObject({ version: 1, definition_sha256: fixed.definition_sha256 });
    expect(blueprint.definition).toMatchObject({ id: 'examples.nightly_health', name: 'Nightly health check' });
    expectStatus(await api.call('GET', '/api/v1/blueprints/examples.nightly_health?version=1', { token: api.tokens.captain }), 200);
    expectStatus(await api.call('GET', '/api/v1/blueprints/examples.nightly_health?version=2'), 404);

    const blueprints = expectStatus(await api.call('GET', '/api/v1/blueprints', { token: api.tokens.viewer }), 200);
    expect((blueprints.items as { blueprint_id: string }[]).map((b) => b.blueprint_id)).toContain('examples.nightly_health');
    const drafts = expectStatus(await api.call('GET', '/api/v1/drafts?limit=1', { token: api.tokens.viewer }), 200);
    expect((drafts.items as unknown[]).length).toBe(1);

    await api.node.kernel.audit.caughtUp();
    const ops = api.node.kernel.audit.list({}).filter((r) => r.details.draft_id === draftId);
    expect(ops.map((r) => r.operation)).toEqual(['draft.save', 'draft.validate', 'draft.save', 'draft.validate', 'blueprint.promote']);
    expect(ops.at(-1)).toMatchObject({ user: 'admiral-user', role: 'admiral', details: { blueprint_id: 'examples.nightly_health', version: 1 } });
  });

  it('a stale revision is 409; an unknown draft or blueprint 404; a second page follows next_cursor', async () => {
    const first = expectStatus(await api.call('POST', '/api/v1/drafts', { body: { text: good } }), 201);
    const id = first.draft_id as string;
    expectStatus(await api.call('POST', `/api/v1/drafts/${id}/validate`, { body: {} }), 200);
    expectStatus(await api.call('POST', '/api/v1/drafts', { body: { text: `${good}\n# changed\n`, draft_id: id } }), 201);
    const stale = await api.call('POST', `/api/v1/drafts/${id}/promote`, { body: { revision: 1 } });
    expectStatus(stale, 409);
    expect(errorOf(stale).message).toMatch(/stale/);

    for (const [method, path, body] of [
      ['GET', '/api/v1/drafts/draft_0123456789abcdef', undefined],
      ['POST', '/api/v1/drafts/draft_0123456789abcdef/validate', {}],
      ['POST', '/api/v1/drafts/draft_0123456789abcdef/promote', { revision: 1 }],
      ['POST', '/api/v1/drafts', { text: good, draft_id: 'draft_0123456789abcdef' }],
      ['POST', `/api/v1/drafts/${id}/validate`, { revision: 99 }],
      ['GET', '/api/v1/blueprints/no.such.blueprint', undefined],
    ] as const) {
      const answer = await api.call(method, path, body === undefined ? {} : { body });
      expectStatus(answer, 404);
      expect(errorOf(answer).code).toBe('not_found');
    }

    const page1 = expectStatus(await api.call('GET', '/api/v1/drafts?limit=1'), 200);
    expect(page1.next_cursor).toMatch(/^draft_/);
    const page2 = expectStatus(await api.call('GET', `/api/v1/drafts?limit=1&cursor=${page1.next_cursor as string}`), 200);
    expect((page2.items as { draft_id: string }[])[0]?.draft_id).not.toBe((page1.items as { draft_id: string }[])[0]?.draft_id);
  });

  it('malformed bodies, queries and ids are 4xx naming what is wrong, never 5xx', async () => {
    const probes: [string, string, unknown][] = [
      ['POST', '/api/v1/drafts', {}],
      ['POST', '/api/v1/drafts', { text: '' }],
      ['POST', '/api/v1/drafts', { text: 42 }],
      ['POST', '/api/v1/drafts', { text: good, extra: true }],
      ['POST', '/api/v1/drafts', { text: good, draft_id: '../etc' }],
      ['POST', '/api/v1/drafts', { text: '   ' }],
      ['POST', '/api/v1/drafts', [1, 2]],
      ['POST', '/api/v1/drafts/draft_0123456789abcdef/promote', {}],
      ['POST', '/api/v1/drafts/draft_0123456789abcdef/promote', { revision: -1 }],
      ['POST', '/api/v1/drafts/draft_0123456789abcdef/promote', { revision: '1' }],
      ['POST', '/api/v1/drafts/draft_0123456789abcdef/validate', { revision: 1.5 }],
      ['GET', `/api/v1/drafts/draft_${'a'.repeat(5000)}`, undefined],
      ['GET', '/api/v1/drafts/not-a-draft', undefined],
      ['GET', `/api/v1/blueprints/${'b'.repeat(200)}`, undefined],
      ['GET', '/api/v1/blueprints/Upper', undefined],
      ['GET', '/api/v1/blueprints/examples.nightly_health?version=zero', undefined],
      ['GET', '/api/v1/drafts?limit=0', undefined],
      ['GET', '/api/v1/drafts?limit=100000', undefined],
      ['GET', '/api/v1/drafts?cursor=%00%01', undefined],
      ['GET', `/api/v1/blueprints?cursor=${'x'.repeat(3000)}`, undefined],
    ];
    for (const [method, path, body] of probes) {
      const answer = await api.call(method, path, body === undefined ? {} : { body });
      const what = `${method} ${path.slice(0, 80)} ${JSON.stringify(body)?.slice(0, 80)}: ${JSON.stringify(answer.body).slice(0, 300)}`;
      expect(answer.status, what).toBeGreaterThanOrEqual(400);
      expect(answer.status, what).toBeLessThan(500);
    }
    // A text that does not parse is saved (a draft may be unfinished); validating it reports why.
    const unparsed = expectStatus(await api.call('POST', '/api/v1/drafts', { body: { text: ': : [unclosed' } }), 201);
    const report = expectStatus(await api.call('POST', `/api/v1/drafts/${unparsed.draft_id as string}/validate`, { body: {} }), 200).report as { is_valid: boolean };
    expect(report.is_valid).toBe(false);
  });

  it('a viewer reads but may not save or promote; an operator saves and validates but may not promote', async () => {
    const saved = expectStatus(await api.call('POST', '/api/v1/drafts', { token: api.tokens.operator, body: { text: good } }), 201);
    const id = saved.draft_id as string;
    expectStatus(await api.call('POST', `/api/v1/drafts/${id}/validate`, { token: api.tokens.operator, body: {} }), 200);
    expectStatus(await api.call('GET', `/api/v1/drafts/${id}`, { token: api.tokens.viewer }), 200);
    expectStatus(await api.call('GET', '/api/v1/drafts', { token: api.tokens.viewer }), 200);

    const viewerSave = await api.call('POST', '/api/v1/drafts', { token: api.tokens.viewer, body: { text: good } });
    expectStatus(viewerSave, 403);
    expect(errorOf(viewerSave).message).toContain('xyn:blueprints:write');
    expectStatus(await api.call('POST', `/api/v1/drafts/${id}/validate`, { token: api.tokens.viewer, body: {} }), 403);
    const viewerPromote = await api.call('POST', `/api/v1/drafts/${id}/promote`, { token: api.tokens.viewer, body: { revision: 1 } });
    expectStatus(viewerPromote, 403);
    const operatorPromote = await api.call('POST', `/api/v1/drafts/${id}/promote`, { token: api.tokens.operator, body: { revision: 1 } });
    expectStatus(operatorPromote, 403);
    expect(errorOf(operatorPromote).message).toContain('xyn:blueprints:promote');
    expectStatus(await api.call('GET', `/api/v1/drafts/${id}`, { token: null }), 401);
    // The same definition as the active version: promotion answers that version.
    expect(expectStatus(await api.call('POST', `/api/v1/drafts/${id}/promote`, { body: { revision: 1 } }), 200)).toMatchObject({ blueprint_id: 'examples.nightly_health', version: 1 });
  });

  it("a draft carries its last validation report; a blueprint's versions come newest first, a page at a time", async () => {
    const text = good.replace('examples.nightly_health', 'examples.versions');
    const first = expectStatus(await api.call('POST', '/api/v1/drafts', { body: { text: text.replace('kind: transform', 'kind: teleport') } }), 201);
    const id = first.draft_id as string;
    expect(expectStatus(await api.call('GET', `/api/v1/drafts/${id}`), 200).report).toBeNull();
    expectStatus(await api.call('POST', `/api/v1/drafts/${id}/validate`, { body: {} }), 200);
    const failed = expectStatus(await api.call('GET', `/api/v1/drafts/${id}`, { token: api.tokens.viewer }), 200).report as { revision: number; is_valid: boolean; issues: { path: string }[] };
    expect(failed).toMatchObject({ revision: 1, is_valid: false });
    expect(failed.issues.map((i) => i.path)).toContain('plan[1].kind');

    for (const [revision, variant] of [[2, text], [3, `${text}\n# the second version\n`], [4, `${text}\n# the third version\n`]] as const) {
      expectStatus(await api.call('POST', '/api/v1/drafts', { body: { text: variant, draft_id: id } }), 201);
      expectStatus(await api.call('POST', `/api/v1/drafts/${id}/validate`, { body: {} }), 200);
      expectStatus(await api.call('POST', `/api/v1/drafts/${id}/promote`, { body: { revision } }), 200);
    }
    const page1 = expectStatus(await api.call('GET', '/api/v1/blueprints/examples.versions/versions?limit=2', { token: api.tokens.viewer }), 200);
    expect((page1.items as { version: number; revision: number }[]).map((v) => [v.version, v.revision])).toEqual([[3, 4], [2, 3]]);
    expect(page1.next_cursor).toBe('2');
    const page2 = expectStatus(await api.call('GET', '/api/v1/blueprints/examples.versions/versions?limit=2&cursor=2'), 200);
    expect((page2.items as { version: number }[]).map((v) => v.version)).toEqual([1]);
    expect(page2.next_cursor).toBeNull();
    const second = expectStatus(await api.call('GET', '/api/v1/blueprints/examples.versions?version=2'), 200);
    expect(second.text).toBe(`${text}\n# the second version\n`);

    const missing = await api.call('GET', '/api/v1/blueprints/no.such/versions');
    expectStatus(missing, 404);
    expect(errorOf(missing).code).toBe('not_found');
    for (const query of ['cursor=0', 'cursor=x', 'limit=0', 'limit=501']) expectStatus(await api.call('GET', `/api/v1/blueprints/examples.versions/versions?${query}`), 400);
  });
});
