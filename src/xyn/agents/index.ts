/**
 * agent_task steps: model calls through the providers' official SDKs, routed
 * by the node's configuration, recorded as artifacts and footprints.
 */
export { agentTask, agentInput, type AgentInput } from './agent-task.ts';
export { agentOutput, type AgentOutput } from './outputs.ts';
export { agentSettings, type AgentSettings } from './settings.ts';
export { AgentOutputInvalidError, AgentProviderUnconfiguredError, AgentRequestRefusedError, AgentSchemaError, AgentUnavailableError } from './errors.ts';
