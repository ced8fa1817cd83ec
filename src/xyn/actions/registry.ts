/**
 * The action plugins built so far, by the name a blueprint's `action_task`
 * gives: the runner dispatches here, and the blueprint validator takes their
 * output names from here (blueprint/actions.ts), so each is said once.
 */
import type { AnyAction } from './action.ts';
import { containerExec } from './container-exec.ts';
import { blueprintsPromote, blueprintsValidate, draftsSave } from './drafts.ts';
import { eventsEmit } from './events-emit.ts';
import { httpCall } from './http-call.ts';
import { hxoSubmit } from './hxo-submit.ts';
import { sshRun } from './ssh-run.ts';

export const ACTION_PLUGINS = {
  'http.call': httpCall,
  'hxo.submit': hxoSubmit,
  'events.emit': eventsEmit,
  'drafts.save': draftsSave,
  'blueprints.validate': blueprintsValidate,
  'blueprints.promote': blueprintsPromote,
  'ssh.run': sshRun,
  'container.exec': containerExec,
} as const satisfies Record<string, AnyAction>;

export type PluginActionName = keyof typeof ACTION_PLUGINS;

/** The plugin for `name`, if it is built. */
export function actionPlugin(name: string): AnyAction | undefined {
  return Object.hasOwn(ACTION_PLUGINS, name) ? ACTION_PLUGINS[name as PluginActionName] : undefined;
}
