/**
 * The blueprint's shape as zod schemas: which fields exist, their types,
 * ranges and defaults. Every object is strict (an unknown field is refused,
 * named). What needs the whole blueprint — unique names, templates that
 * resolve — is checked after this, in references.ts.
 */
import { z } from 'zod';
import { PROVIDERS } from '../agents/provider.ts';
import { ACTION_NAMES } from './actions.ts';
import { DURATION_RULE, durationMs } from './duration.ts';
import { cronProblem, eventPatternProblem, timezoneProblem } from './trigger.ts';

export const BLUEPRINT_ID_PATTERN = /^[a-z][a-z0-9_.-]*$/;
export const BLUEPRINT_ID_MAX = 128;
export const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MAX_STEPS = 200;
export const STEP_KINDS = ['agent_task', 'action_task', 'gate', 'transform'] as const;

const identifier = z.string().regex(IDENTIFIER_PATTERN, 'must be an identifier: a letter or _, then letters, digits or _');
const duration = z.custom<string | number>((v) => durationMs(v) !== undefined, DURATION_RULE);
const checked = (problem: (s: string) => string | undefined) =>
  z.string().superRefine((s, ctx) => {
    const why = problem(s);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  });

const trigger = z
  .strictObject({
    event_type: checked(eventPatternProblem).optional(),
    cron: checked(cronProblem).optional(),
    timezone: checked(timezoneProblem).optional(),
  })
  .superRefine((t, ctx) => {
    const has = (t.event_type !== undefined ? 1 : 0) + (t.cron !== undefined ? 1 : 0);
    if (has !== 1) ctx.addIssue({ code: 'custom', message: `needs exactly one of event_type or cron${has === 2 ? ', not both' : ''}` });
    if (t.timezone !== undefined && t.cron === undefined) ctx.addIssue({ code: 'custom', path: ['timezone'], message: 'applies only to a cron trigger' });
  });

const input = z.strictObject({
  name: identifier,
  required: z.boolean().default(true),
  default: z.unknown().optional(),
  description: z.string().optional(),
});

/** Fields every step may have. */
const common = {
  id: identifier,
  when: z.string().optional(),
  timeout: duration.optional(),
  retries: z.int().min(0).max(10).optional(),
  backoff: duration.optional(),
  on_failure: z.enum(['fail', 'continue']).optional(),
};

const agentTask = z.strictObject({
  kind: z.literal('agent_task'),
  ...common,
  provider: z.enum(PROVIDERS),
  model: z.string().min(1),
  prompt_template: z.string().min(1),
  system: z.string().optional(),
  max_tokens: z.int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  output: z.enum(['text', 'json']).default('text'),
  schema: z.record(z.string(), z.unknown()).optional(),
});

const actionTask = z.strictObject({
  kind: z.literal('action_task'),
  ...common,
  action: z.enum(ACTION_NAMES),
  with: z.record(z.string(), z.unknown()),
  /** Overrides the action's own answer: may this step be retried, and run again after a restart (a command safe to repeat)? */
  idempotent: z.boolean().optional(),
});

const gate = z.strictObject({ kind: z.literal('gate'), ...common, mode: z.literal('manual') });

const transform = z.strictObject({
  kind: z.literal('transform'),
  ...common,
  outputs: z.record(identifier, z.unknown()),
});

const step = z.discriminatedUnion('kind', [agentTask, actionTask, gate, transform]);

export const blueprintSchema = z.strictObject({
  id: z.string().max(BLUEPRINT_ID_MAX).regex(BLUEPRINT_ID_PATTERN, 'must be lowercase letters, digits, _ . - starting with a letter'),
  name: z.string().min(1),
  description: z.string().optional(),
  trigger,
  inputs: z.array(input).default([]),
  plan: z.array(step).min(1).max(MAX_STEPS),
  outputs: z.array(z.strictObject({ name: identifier, value: z.unknown().optional() })).default([]),
});

export type Blueprint = z.infer<typeof blueprintSchema>;
export type BlueprintStep = Blueprint['plan'][number];
export type BlueprintInput = Blueprint['inputs'][number];
