/**
 * What an agent_task's failure means to the runner, one class per condition:
 * whether the step's `retries` may mend it (`retryable`, read by core's
 * isRetryable) and the data an operator needs, registered so each keeps its
 * class across a thread hop.
 *
 *   throw new AgentUnavailableError([{ provider: 'openai', model: 'gpt-4.1', reason: 'HTTP 500' }]);
 */
import { NonRetryableError, XynError, registerErrorClass } from '../../core/errors.ts';
import type { Provider } from './provider.ts';

/** The provider has no API key anywhere the node looks: set one of the variables named. */
export class AgentProviderUnconfiguredError extends NonRetryableError {
  constructor(
    readonly provider: Provider,
    readonly variables: string[],
    why = 'no API key',
  ) {
    super(`${provider} is not configured: ${why} (set ${variables.join(' or ')})`, 'AGENT_PROVIDER_UNCONFIGURED', { provider, variables });
  }
}

/** Why one provider did not answer, as the step's error lists it. */
export interface ProviderFailure {
  provider: Provider;
  model: string;
  reason: string;
}

/** No provider answered (5xx, time-outs, refused connections, rate limits not lifted): a later try of the step may. */
export class AgentUnavailableError extends XynError {
  constructor(readonly failures: ProviderFailure[]) {
    super(`no model provider answered: ${failures.map((f) => `${f.provider} (${f.model}): ${f.reason}`).join('; ')}`, 'AGENT_UNAVAILABLE', { failures });
  }
}

/** The provider refused the request (a 4xx other than 429: a bad key, an unknown model): the same request is refused again. */
export class AgentRequestRefusedError extends NonRetryableError {
  constructor(provider: Provider, model: string, status: number, message: string) {
    super(`${provider} refused the request for ${model} (HTTP ${status}): ${message}`, 'AGENT_REQUEST_REFUSED', { provider, model, status });
  }
}

/** The answer was not JSON meeting the step's schema, even after one round of repair. */
export class AgentOutputInvalidError extends NonRetryableError {
  constructor(readonly errors: string[]) {
    super(`the answer is not valid JSON for the step's schema, even after a repair round: ${errors.join('; ')}`, 'AGENT_OUTPUT_INVALID', { errors });
  }
}

/** The step's `schema` is not a JSON Schema this node can check answers against. */
export class AgentSchemaError extends NonRetryableError {
  constructor(problem: string) {
    super(`schema: ${problem} (supported: type, properties, required, items, enum, additionalProperties)`, 'AGENT_SCHEMA_INVALID', { problem });
  }
}

for (const cls of [AgentProviderUnconfiguredError, AgentUnavailableError, AgentRequestRefusedError, AgentOutputInvalidError, AgentSchemaError]) {
  registerErrorClass(cls);
}
