/**
 * The actions an `action_task` step may name, in one place, each with the
 * outputs it gives its step (`{{steps.<id>.outputs.<name>}}`).
 *
 * Why here: the validator checks `action` and output templates against this
 * list, and the runner (src/xyn/runs/step-runner.ts) dispatches on the same names. An
 * action built as a plugin (src/xyn/actions/) gives its outputs from its
 * output schema, so they are said once.
 */
import { outputNames } from '../actions/action.ts';
import { ACTION_PLUGINS } from '../actions/registry.ts';
import { agentOutput } from '../agents/outputs.ts';

export const ACTIONS = {
  'http.call': outputNames(ACTION_PLUGINS['http.call']),
  'hxo.submit': outputNames(ACTION_PLUGINS['hxo.submit']),
  'events.emit': outputNames(ACTION_PLUGINS['events.emit']),
  'drafts.save': outputNames(ACTION_PLUGINS['drafts.save']),
  'blueprints.validate': outputNames(ACTION_PLUGINS['blueprints.validate']),
  'blueprints.promote': outputNames(ACTION_PLUGINS['blueprints.promote']),
  'ssh.run': outputNames(ACTION_PLUGINS['ssh.run']),
  'container.exec': outputNames(ACTION_PLUGINS['container.exec']),
} as const satisfies Record<string, readonly string[]>;

export type ActionName = keyof typeof ACTIONS;

export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];

/** The outputs a `gate` gives once approved (a rejected gate fails its step: it gives none). */
export const GATE_OUTPUTS = ['approved', 'by', 'reason', 'decided_at'] as const;

/** The outputs an `agent_task` step gives (src/xyn/agents/outputs.ts). */
export const AGENT_OUTPUTS = outputNames({ output: agentOutput });
