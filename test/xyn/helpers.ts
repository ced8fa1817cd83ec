/**
 * A small valid blueprint for the xyn tests, and `withChange` to make one
 * field of it wrong: each rule's test changes only what it is about.
 */
import { validateBlueprint, type BlueprintIssue } from '../../src/xyn/blueprint/index.ts';

export function validBlueprint(): Record<string, unknown> {
  return {
    id: 'bp.test.flow',
    name: 'Test flow',
    trigger: { event_type: 'checkmk.alert' },
    inputs: [{ name: 'host' }, { name: 'service', required: false, default: 'ssh' }],
    plan: [
      { kind: 'agent_task', id: 'analyze', provider: 'openai', model: 'gpt-5', prompt_template: 'Alert on {{inputs.host}}' },
      { kind: 'gate', id: 'approve', mode: 'manual' },
      { kind: 'transform', id: 'shape', outputs: { cmd: 'fix {{inputs.service}}', plan: '{{steps.analyze.outputs.json}}' } },
      { kind: 'action_task', id: 'run_fix', action: 'ssh.run', with: { host: '{{inputs.host}}', cmd: '{{steps.shape.outputs.cmd}}' } },
    ],
    outputs: [{ name: 'summary', value: '{{steps.analyze.outputs.text}}' }],
  };
}

/** The blueprint with `change` applied to it (a copy); returns its issues ([] when valid). */
export function issuesWith(change: (bp: Record<string, unknown> & { plan: Record<string, unknown>[] }) => void): BlueprintIssue[] {
  const bp = structuredClone(validBlueprint()) as Record<string, unknown> & { plan: Record<string, unknown>[] };
  change(bp);
  const r = validateBlueprint(bp);
  return r.ok ? [] : r.issues;
}

/** plan[i] of a blueprint under change. */
export function step(bp: { plan: Record<string, unknown>[] }, i: number): Record<string, unknown> {
  const s = bp.plan[i];
  if (!s) throw new Error(`no plan[${i}]`);
  return s;
}
