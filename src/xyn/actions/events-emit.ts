/**
 * `events.emit`: a workflow publishes an event on the node's bus, under the
 * rules an API caller's emit keeps (the topic rules of kernel/topic.ts, the
 * length of POST /api/v1/events, the node namespaces of kernel/namespaces.ts)
 * and one more: not even the control topics (`genesis.heal`, …), which the
 * API grants by a caller's capability — a run has no caller to ask, so a
 * workflow cannot forge any node event. The event carries the run's
 * correlation id, and `xyn:run:<runId>` as its actor.
 *
 *   await eventsEmit.execute({ name: 'deploy.requested', data: { host } }, ctx) // { seq: 42, event_id: '…' }
 *
 * Not idempotent: a re-run emits a second event.
 */
import { z } from 'zod';
import { ValidationError } from '../../core/errors.ts';
import { ReservedTopicError, assertEmittable } from '../../kernel/namespaces.ts';
import { EMIT_NAME_MAX, assertTopic } from '../../kernel/topic.ts';
import type { Action, ActionContext } from './action.ts';
import { ActionInputError } from './errors.ts';

const NAME = 'events.emit';

/** Why a workflow may not emit `name`, or undefined when it may. */
export function workflowEmitProblem(name: string): string | undefined {
  try {
    assertTopic(name);
    const control = assertEmittable(name);
    return control && `"${control}" is a control topic of the node: only an API caller with its capability may emit it, not a workflow`;
  } catch (err) {
    if (err instanceof ReservedTopicError || err instanceof ValidationError) return err.message;
    throw err;
  }
}

const input = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(EMIT_NAME_MAX)
    .superRefine((name, ctx) => {
      const problem = workflowEmitProblem(name);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  data: z.record(z.string(), z.unknown()).default({}),
});

const output = z.object({
  seq: z.number().int(),
  event_id: z.string(),
});

export type EventsEmitInput = z.output<typeof input>;
export type EventsEmitOutput = z.output<typeof output>;

async function execute(emit: EventsEmitInput, ctx: ActionContext): Promise<EventsEmitOutput> {
  // Checked again here: the guard must hold even for a caller that skipped parsing.
  const problem = workflowEmitProblem(emit.name);
  if (problem) throw new ActionInputError(`${NAME}: name: ${problem}`, 'name');
  const event = await ctx.bus.publish(emit.name, emit.data, {
    correlation_id: ctx.correlationId,
    actor: `xyn:run:${ctx.runId}`,
    run_id: ctx.runId,
    step_id: ctx.stepId,
  });
  return { seq: event.seq, event_id: event.event_id };
}

export const eventsEmit: Action<EventsEmitInput, EventsEmitOutput> = {
  name: NAME,
  input,
  output,
  idempotent: false,
  execute,
};
