/**
 * Real HTTP servers on 127.0.0.1 for the action tests, and an action context
 * over a real bus: what an action meets when a run executes it.
 */
import type { IncomingMessage } from 'node:http';
import { expect } from 'vitest';
import { isRetryable } from '../../../src/core/errors.ts';
import type { Bus } from '../../../src/kernel/bus.ts';
import { ActionInputError, parseActionInput, type Action, type ActionContext } from '../../../src/xyn/actions/index.ts';

export { serve, type TestServer } from '../../helpers/test-server.ts';

/** The whole request body as text. */
export async function readRequest(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function actionContext(bus: Bus, signal: AbortSignal = new AbortController().signal): ActionContext {
  return { runId: 'run-1', stepId: 'step-1', correlationId: 'corr-1', signal, bus };
}

/** The field parsing `raw` as the action's input is refused on (with a non-retryable ActionInputError); fails the test when accepted. */
export function refusedField<I>(action: Action<I, unknown>, raw: unknown): string {
  try {
    parseActionInput(action, raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ActionInputError);
    expect(isRetryable(err)).toBe(false);
    return (err as ActionInputError).field;
  }
  return expect.fail(`accepted ${JSON.stringify(raw)}`);
}

/** A blueprint of two action steps, the second's `with` using the first's outputs (to check templates against what an action gives). */
export function twoActionBlueprint(first: { id: string; action: string; with: Record<string, unknown> }, second: { action: string; with: Record<string, unknown> }): Record<string, unknown> {
  return {
    id: 'bp.t',
    name: 'T',
    trigger: { event_type: 'x.y' },
    plan: [
      { kind: 'action_task', ...first },
      { kind: 'action_task', id: 'second', ...second },
    ],
  };
}
