/**
 * `xyn blueprint validate FILE [--json]` as a real process: exit 0 and one
 * line for a valid file, exit 2 and every issue for an invalid one, one line
 * and exit 2 for a file it cannot read.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../kernel/helpers.ts';
import { xynSync } from '../helpers/cli.ts';

const temp = tempDir();
const dir = temp.path;
afterAll(() => temp.cleanup());
const BAD = join(dir, 'bad.yaml');
writeFileSync(
  BAD,
  `id: bp.bad
name: Bad
trigger: { event_type: checkmk.alert }
inputs: [{ name: host }]
plan:
  - { kind: agent_task, id: analyze, agent: openai, model: gpt-5, prompt_template: "on {{steps.run_fix.outputs.stdout}}" }
  - { kind: action_task, id: run_fix, action: ssh.run, with: { host: "{{inputs.hots}}" } }
`,
);

describe('xyn blueprint validate', () => {
  it('a valid blueprint: one line, exit 0', () => {
    const r = xynSync(['blueprint', 'validate', 'blueprints/workflows/checkmk-remediate.yaml']);
    expect(r.stdout).toBe('blueprints/workflows/checkmk-remediate.yaml: valid — blueprint bp.checkmk.auto_remediate, 3 steps\n');
    expect(r.status).toBe(0);
  });

  it('an invalid one: every issue as FILE: PATH: MESSAGE, exit 2', () => {
    const r = xynSync(['blueprint', 'validate', BAD]);
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      `${BAD}: plan[0].provider: required`,
      `${BAD}: plan[0].agent: unknown field "agent" — name the provider in \`provider\` (openai or anthropic) and the model in \`model\``,
    ]);
    expect(r.status).toBe(2);
  });

  it('--json: one object, with the issues or the blueprint’s id, steps and digest', () => {
    writeFileSync(join(dir, 'refs.json'), JSON.stringify({ id: 'bp.refs', name: 'R', trigger: { cron: '0 3 * * *' }, inputs: [{ name: 'host' }], plan: [{ kind: 'action_task', id: 'a', action: 'http.call', with: { url: '{{inputs.hots}}' } }] }));
    const bad = xynSync(['blueprint', 'validate', join(dir, 'refs.json'), '--json']);
    expect(JSON.parse(bad.stdout)).toEqual({ file: join(dir, 'refs.json'), ok: false, issues: [{ path: 'plan[0].with.url', message: '{{inputs.hots}} does not resolve — inputs are host' }] });
    expect(bad.status).toBe(2);
    const good = xynSync(['blueprint', 'validate', 'blueprints/workflows/nightly-health.yaml', '--json']);
    expect(JSON.parse(good.stdout)).toEqual({ file: 'blueprints/workflows/nightly-health.yaml', ok: true, blueprint_id: 'examples.nightly_health', steps: 3, digest: expect.stringMatching(/^[0-9a-f]{64}$/), issues: [] });
    expect(good.status).toBe(0);
  });

  it('a file it cannot read: one line on stderr, exit 2', () => {
    const r = xynSync(['blueprint', 'validate', join(dir, 'missing.yaml')]);
    expect(r.stderr).toBe(`xyn: cannot read ${join(dir, 'missing.yaml')}: ENOENT\n`);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(2);
  });

  it('a YAML syntax error: the line and column, exit 2', () => {
    writeFileSync(join(dir, 'syntax.yaml'), 'id: a\nid: b\n');
    const r = xynSync(['blueprint', 'validate', join(dir, 'syntax.yaml')]);
    expect(r.stdout).toMatch(/syntax\.yaml: \(file\): not valid YAML at line 2, column 1: /);
    expect(r.status).toBe(2);
  });
});
