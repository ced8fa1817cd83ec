/** Actions as plugins: the contract, its errors, and the built ones (registry.ts). */
export { haltedOnly, idempotentFor, outputNames, parseActionInput, redactedInput, RunHalted, type Action, type ActionContext, type AnyAction, type ContainersPort, type HostKeyCheck, type KnownHostsPort } from './action.ts';
export { ActionAbortedError, ActionInputError, ActionLimitError, ActionNetworkError, ActionTimeoutError, HttpStatusError, PlanFailedActionError, SecretsUnavailableError } from './errors.ts';
export {
  blueprintsPromote,
  blueprintsValidate,
  draftsSave,
  type BlueprintsPromoteInput,
  type BlueprintsPromoteOutput,
  type BlueprintsValidateInput,
  type BlueprintsValidateOutput,
  type DraftsSaveInput,
  type DraftsSaveOutput,
} from './drafts.ts';
export { containerExec, type ContainerExecInput, type ContainerExecOutput } from './container-exec.ts';
export { eventsEmit, workflowEmitProblem, type EventsEmitInput, type EventsEmitOutput } from './events-emit.ts';
export { hxoSubmit, type HxoActionContext, type HxoSubmitInput, type HxoSubmitOutput } from './hxo-submit.ts';
export { httpCall, isIdempotentCall, redactCall, type HttpCallInput, type HttpCallOutput } from './http-call.ts';
export { sshRun, type SshRunInput, type SshRunOutput } from './ssh-run.ts';
export { ACTION_PLUGINS, actionPlugin, type PluginActionName } from './registry.ts';
