/** The plugins are where the blueprint validator takes their output names from: one source. */
import { describe, expect, it } from 'vitest';
import { ACTIONS, ACTION_NAMES, validateBlueprint } from '../../../src/xyn/blueprint/index.ts';
import { ACTION_PLUGINS, actionPlugin, outputNames } from '../../../src/xyn/actions/index.ts';
import { twoActionBlueprint } from './helpers.ts';

describe('action registry', () => {
  it('holds each plugin under its own name, a name blueprints accept', () => {
    for (const [name, plugin] of Object.entries(ACTION_PLUGINS)) {
      expect(plugin.name).toBe(name);
      expect(ACTION_NAMES).toContain(name);
      expect(actionPlugin(name)).toBe(plugin);
    }
    expect(actionPlugin('no.such.action')).toBeUndefined();
    expect(actionPlugin('toString')).toBeUndefined();
  });

  it("gives the blueprint validator the plugins' output names", () => {
    expect(ACTIONS['http.call']).toEqual(['status', 'headers', 'body', 'json']);
    expect(ACTIONS['events.emit']).toEqual(['seq', 'event_id']);
    expect(ACTIONS['hxo.submit']).toEqual(['plan_id', 'merkle_root', 'total_shards', 'truth_certified', 'state']);
    expect(ACTIONS['drafts.save']).toEqual(['draft_id', 'revision', 'definition_sha256']);
    expect(ACTIONS['blueprints.validate']).toEqual(['draft_id', 'revision', 'is_valid', 'issues', 'report_sha256']);
    expect(ACTIONS['blueprints.promote']).toEqual(['blueprint_id', 'version', 'definition_sha256']);
    expect(ACTIONS['ssh.run']).toEqual(['exit_code', 'signal', 'stdout', 'stderr', 'truncated']);
    for (const plugin of Object.values(ACTION_PLUGINS)) expect(ACTIONS[plugin.name as keyof typeof ACTIONS]).toEqual(outputNames(plugin));
  });

  it('refuses a template to an output http.call does not give', () => {
    const bp = (output: string) =>
      twoActionBlueprint({ id: 'get', action: 'http.call', with: { url: 'https://example.com' } }, { action: 'events.emit', with: { name: 'app.done', data: { v: `{{steps.get.outputs.${output}}}` } } });
    expect(validateBlueprint(bp('json')).ok).toBe(true);
    const bad = validateBlueprint(bp('statuz'));
    expect(bad.ok ? [] : bad.issues.map((i) => `${i.path}: ${i.message}`).join('\n')).toMatch(/plan\[1\]\.with.*statuz/);
  });
});
