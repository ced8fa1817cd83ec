/**
 * The actions an `action_task` step may name, each with the outputs it gives
 * its step (`{{steps.<id>.outputs.<name>}}`): the plugins of the registry
 * (src/xyn/actions/registry.ts), their outputs from their output schemas, so
 * the validator and the runner (src/xyn/runs/step-runner.ts) agree by
 * construction.
 */
import { outputNames } from '../actions/action.ts';
import { ACTION_PLUGINS, type PluginActionName } from '../actions/registry.ts';
import { agentOutput } from '../agents/outputs.ts';

export type ActionName = PluginActionName;

export const ACTIONS = Object.fromEntries(Object.entries(ACTION_PLUGINS).map(([name, plugin]) => [name, outputNames(plugin)])) as unknown as Record<ActionName, readonly string[]>;

export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];

/** The outputs a `gate` gives once approved (a rejected gate fails its step: it gives none). */
export const GATE_OUTPUTS = ['approved', 'by', 'reason', 'decided_at'] as const;

/** The outputs an `agent_task` step gives (src/xyn/agents/outputs.ts). */
export const AGENT_OUTPUTS = outputNames({ output: agentOutput });
