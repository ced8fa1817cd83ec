/**
 * What an agent_task step gives later steps (`{{steps.<id>.outputs.<name>}}`),
 * said once: the runner checks answers against it and the blueprint
 * validator takes the output names from its keys.
 */
import { z } from 'zod';
import { PROVIDERS } from './provider.ts';

export const agentOutput = z.object({
  /** The answer as the model gave it (the last one, after a repair round). */
  text: z.string(),
  /** The answer parsed, for `output: json`; null for `output: text`. */
  json: z.unknown(),
  /** Who answered: after a fallback, the other provider and its model. */
  provider: z.enum(PROVIDERS),
  model: z.string(),
  /** Over every call the step's attempt made (rate-limit waits, fallback, repair). */
  usage: z.object({ tokens_in: z.number(), tokens_out: z.number(), request_count: z.number() }),
});

export type AgentOutput = z.infer<typeof agentOutput>;
