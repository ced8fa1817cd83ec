/**
 * Blueprint files: YAML and JSON read the same, a syntax error is an issue
 * naming its line and column, and the examples in blueprints/workflows/ are
 * valid (the docs point at them).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseBlueprintText, validateBlueprint } from '../../src/xyn/blueprint/index.ts';
import { REPO_ROOT } from '../helpers/cli.ts';
import { validBlueprint } from './helpers.ts';

const EXAMPLES = join(REPO_ROOT, 'blueprints', 'workflows');

describe('parseBlueprintText', () => {
  it('YAML and JSON of the same blueprint validate to the same thing', () => {
    const fromYaml = parseBlueprintText(stringify(validBlueprint()), 'a.yaml');
    const fromJson = parseBlueprintText(JSON.stringify(validBlueprint()), 'a.JSON');
    expect(fromYaml.ok && fromJson.ok).toBe(true);
    const y = fromYaml.ok ? validateBlueprint(fromYaml.value) : fromYaml;
    const j = fromJson.ok ? validateBlueprint(fromJson.value) : fromJson;
    expect(y).toEqual(j);
    expect(y.ok).toBe(true);
  });

  it('and the same issues when invalid', () => {
    const bad = { ...validBlueprint(), id: 'X', extra: 1 };
    const y = parseBlueprintText(stringify(bad), 'a.yml');
    const j = parseBlueprintText(JSON.stringify(bad), 'a.json');
    const issues = (p: typeof y) => (p.ok ? validateBlueprint(p.value) : p);
    expect(issues(y)).toEqual(issues(j));
    expect(issues(y)).toMatchObject({ ok: false, issues: [{ path: 'id' }, { path: 'extra' }] });
  });

  it('a YAML syntax error names its line and column', () => {
    expect(parseBlueprintText('id: a\nname: "unterminated\n', 'a.yaml')).toEqual({ ok: false, issues: [{ path: '(file)', message: 'not valid YAML at line 3, column 1: Missing closing "quote' }] });
    const dup = parseBlueprintText('id: a\nid: b\n', 'a.yaml');
    expect(dup).toEqual({ ok: false, issues: [{ path: '(file)', message: expect.stringMatching(/^not valid YAML at line 2, column 1: Map keys must be unique/) }] });
  });

  it('a JSON syntax error is an issue, not a throw', () => {
    expect(parseBlueprintText('{"id": ', 'a.json')).toMatchObject({ ok: false, issues: [{ path: '(file)', message: expect.stringContaining('not valid JSON') }] });
  });

  it('a file that is not a mapping is refused as a whole', () => {
    const p = parseBlueprintText('- a\n- b\n', 'a.yaml');
    expect(p.ok && validateBlueprint(p.value)).toEqual({ ok: false, issues: [{ path: '(blueprint)', message: 'must be an object' }] });
  });
});

describe('the examples in blueprints/workflows/', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

  it('there are the four the docs name', () => {
    expect(files.sort()).toEqual(['approve-and-certify.yaml', 'checkmk-remediate.yaml', 'fetch-and-certify.yaml', 'nightly-health.yaml']);
  });

  it.each(files)('%s is valid', (file) => {
    const parsed = parseBlueprintText(readFileSync(join(EXAMPLES, file), 'utf8'), file);
    expect(parsed.ok && validateBlueprint(parsed.value)).toMatchObject({ ok: true });
  });

  it('between them: a cron trigger, an event trigger, and http.call → transform → gate → hxo.submit', () => {
    const all = files.map((f) => {
      const p = parseBlueprintText(readFileSync(join(EXAMPLES, f), 'utf8'), f);
      const r = p.ok ? validateBlueprint(p.value) : p;
      if (!r.ok) throw new Error(f);
      return r.blueprint;
    });
    expect(all.some((b) => b.trigger.cron !== undefined)).toBe(true);
    expect(all.some((b) => b.trigger.event_type !== undefined)).toBe(true);
    const shapes = all.map((b) => b.plan.map((s) => (s.kind === 'action_task' ? s.action : s.kind)).join(' → '));
    expect(shapes).toContain('http.call → transform → gate → hxo.submit');
  });
});

describe('docs/blueprints.md', () => {
  it('its example is a valid blueprint', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'blueprints.md'), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toContain('id: bp.checkmk.auto_remediate');
    const parsed = parseBlueprintText(example ?? '', 'example.yaml');
    expect(parsed.ok && validateBlueprint(parsed.value)).toMatchObject({ ok: true, blueprint: { plan: [{ id: 'analyze' }, { id: 'approve' }, { id: 'run_fix' }] } });
  });
});
