/**
 * Which provider and model answer a step, and what a failure leads to
 * (seed 004 §8.2): the blueprint's provider and model, unless the node's
 * XYN_AGENT_PROVIDER / XYN_AGENT_MODEL say otherwise; then the other
 * provider with its configured model (XYN_OPENAI_MODEL, XYN_ANTHROPIC_MODEL).
 *
 * - 429: the wait the provider asks for (retry-after-ms, retry-after; 1 s
 *   when it names none) is waited out and the call made again, at most
 *   XYN_AGENT_RATE_LIMIT_RETRIES times, a wait longer than
 *   XYN_AGENT_MAX_RETRY_AFTER_MS is not waited (the provider counts as down);
 * - 5xx, a time-out, no connection, a rate limit not lifted: the next target;
 * - any other 4xx: the step fails at once (the other provider would not make
 *   a bad request good);
 * - the step's signal: every wait and request stops at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SecretsPort } from '../actions/action.ts';
import type { AgentCalls, CallPhase } from './agent-calls.ts';
import { AgentProviderUnconfiguredError, AgentRequestRefusedError, AgentUnavailableError, type ProviderFailure } from './errors.ts';
import { ProviderCallFailure, type ModelAnswer, type ModelRequest, type Provider, type ProviderClient } from './provider.ts';
import { providerAccess, type AgentSettings } from './settings.ts';

/** The wait after a 429 that names none. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 1000;

export interface Target {
  provider: Provider;
  model: string;
}

/** The step's targets in order: the one routing prefers, then the other provider. */
export function targetsFor(step: Target, settings: AgentSettings): Target[] {
  const provider = settings.provider ?? step.provider;
  const model = settings.model ?? (provider === step.provider ? step.model : settings.providers[provider].model);
  const other: Provider = provider === 'openai' ? 'anthropic' : 'openai';
  return [
    { provider, model },
    { provider: other, model: settings.providers[other].model },
  ];
}

export interface RouteDeps {
  settings: AgentSettings;
  clients: Record<Provider, ProviderClient>;
  calls: AgentCalls;
  secrets?: SecretsPort | undefined;
  signal: AbortSignal;
}

/** The first answer a target gives, in order; throws why none did. */
export async function ask(targets: Target[], request: Omit<ModelRequest, 'model'>, phase: CallPhase, deps: RouteDeps): Promise<{ answer: ModelAnswer; target: Target }> {
  const failures: ProviderFailure[] = [];
  for (const [i, target] of targets.entries()) {
    if (i > 0) deps.calls.log('warn', `falling back to ${target.provider} ${target.model}`, { provider: target.provider, model: target.model });
    let access;
    try {
      access = await providerAccess(target.provider, deps.settings, deps.secrets);
    } catch (err) {
      // The preferred provider unconfigured is the node's to fix; a fallback unconfigured is only one less way out.
      if (i === 0 || !(err instanceof AgentProviderUnconfiguredError)) throw err;
      failures.push({ ...target, reason: err.message });
      continue;
    }
    const full: ModelRequest = { ...request, model: target.model };
    for (let waits = 0; ; waits++) {
      const call = await deps.calls.sent(target.provider, full, phase);
      // The whole request, its stream too, within XYN_AGENT_REQUEST_TIMEOUT_MS (the SDKs' own timeout stops at the headers).
      const expiry = AbortSignal.timeout(deps.settings.requestTimeoutMs);
      try {
        const answer = await deps.clients[target.provider].complete(full, access, AbortSignal.any([deps.signal, expiry]));
        await deps.calls.received(call, target.provider, full, { answer });
        return { answer, target };
      } catch (thrown) {
        const err = expiry.aborted && !deps.signal.aborted ? new ProviderCallFailure('unavailable', `no complete answer within ${deps.settings.requestTimeoutMs} ms (XYN_AGENT_REQUEST_TIMEOUT_MS)`, null, null) : thrown;
        if (!(err instanceof ProviderCallFailure)) throw err;
        await deps.calls.received(call, target.provider, full, { failure: err.message, status: err.status });
        if (err.kind === 'refused') throw new AgentRequestRefusedError(target.provider, target.model, err.status ?? 0, err.message);
        const wait = err.kind === 'rate_limited' ? (err.retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS) : undefined;
        if (wait === undefined || waits >= deps.settings.rateLimitRetries || wait > deps.settings.maxRetryAfterMs) {
          failures.push({ ...target, reason: err.kind === 'rate_limited' ? `rate limited (${err.message})` : err.message });
          break;
        }
        deps.calls.log('warn', `${target.provider} is rate limited: waiting ${wait} ms as it asks`, { provider: target.provider, wait_ms: wait });
        await sleep(wait, undefined, { signal: deps.signal });
      }
    }
  }
  throw new AgentUnavailableError(failures);
}
