/**
 * The node's agent settings, taken from its configuration once, and where a
 * provider's key and base URL come from at the time of a call: a secret ref
 * (XYN_*_API_KEY_REF, resolved through the run's secrets) first, then the
 * node's configuration (OPENAI_API_KEY, ANTHROPIC_API_KEY from its env or
 * XYN_CONFIG file), then the SDK's own environment variables, which the SDK
 * reads itself: a value this node does not have is left out, never passed as
 * undefined over what the SDK would find.
 */
import type { ConfigValues } from '../../kernel/config.ts';
import type { SecretsPort } from '../actions/action.ts';
import { AgentProviderUnconfiguredError } from './errors.ts';
import type { Provider, ProviderAccess } from './provider.ts';

interface ProviderSettings {
  apiKey?: string | undefined;
  apiKeyRef?: string | undefined;
  baseURL?: string | undefined;
  /** The model a step routed here without one of its own gets. */
  model: string;
}

export interface AgentSettings {
  /** XYN_AGENT_PROVIDER / XYN_AGENT_MODEL: over what a step's blueprint says. */
  provider?: Provider | undefined;
  model?: string | undefined;
  providers: Record<Provider, ProviderSettings>;
  requestTimeoutMs: number;
  rateLimitRetries: number;
  maxRetryAfterMs: number;
}

export function agentSettings(config: ConfigValues): AgentSettings {
  return {
    provider: config.XYN_AGENT_PROVIDER,
    model: config.XYN_AGENT_MODEL,
    providers: {
      openai: { apiKey: config.OPENAI_API_KEY, apiKeyRef: config.XYN_OPENAI_API_KEY_REF, baseURL: config.OPENAI_BASE_URL, model: config.XYN_OPENAI_MODEL },
      anthropic: { apiKey: config.ANTHROPIC_API_KEY, apiKeyRef: config.XYN_ANTHROPIC_API_KEY_REF, baseURL: config.ANTHROPIC_BASE_URL, model: config.XYN_ANTHROPIC_MODEL },
    },
    requestTimeoutMs: config.XYN_AGENT_REQUEST_TIMEOUT_MS,
    rateLimitRetries: config.XYN_AGENT_RATE_LIMIT_RETRIES,
    maxRetryAfterMs: config.XYN_AGENT_MAX_RETRY_AFTER_MS,
  };
}

/** The variables that give `provider` its key, as an error names them. */
export function keyVariables(provider: Provider): string[] {
  const sdk = provider === 'openai' ? 'OPENAI_API_KEY' : 'ANTHROPIC_API_KEY';
  return [sdk, `XYN_${sdk}_REF`];
}

/** How to reach `provider` now; throws AgentProviderUnconfiguredError when it has no key anywhere. */
export async function providerAccess(provider: Provider, settings: AgentSettings, secrets: SecretsPort | undefined): Promise<ProviderAccess> {
  const own = settings.providers[provider];
  const base: ProviderAccess = own.baseURL ? { baseURL: own.baseURL } : {};
  const [sdkVariable, refVariable] = keyVariables(provider) as [string, string];
  if (own.apiKeyRef) {
    if (!secrets) throw new AgentProviderUnconfiguredError(provider, [sdkVariable], `${refVariable} is set but this node resolves no secrets`);
    return { ...base, apiKey: await secrets.resolve(own.apiKeyRef) };
  }
  if (own.apiKey) return { ...base, apiKey: own.apiKey };
  if (process.env[sdkVariable]) return base;
  throw new AgentProviderUnconfiguredError(provider, [sdkVariable, refVariable]);
}
