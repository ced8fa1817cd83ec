/**
 * One step's work, apart from where it is recorded: a transform's outputs
 * from its expressions, an action's call — or an agent_task's model call,
 * which runs as an action too (src/xyn/agents) — with its timeout and
 * retries. A gate is the run's to wait on (run-actor.ts).
 *
 * Retries are only for what may be repeated: an action idempotent for this
 * input (an HTTP GET, not a POST), or a step that says `idempotent: true`
 * (its author knows the command is safe to repeat; `false` forbids it even
 * for a GET), failing with an error a later try may mend
 * (a timeout, a 5xx, a refused connection — not a 4xx or a bad input). The
 * wait doubles from `backoff` (default 1 s), at most 5 minutes, and gives up
 * at once when the run is cancelled.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isRetryable, serializeError, XynError } from '../../core/errors.ts';
import { idempotentFor, parseActionInput, redactedInput, type Action, type ActionContext, type AnyAction } from '../actions/action.ts';
import { ActionTimeoutError } from '../actions/errors.ts';
import { ACTION_PLUGINS } from '../actions/registry.ts';
import { durationMs, resolveTemplates, type BlueprintStep, type TemplateContext } from '../blueprint/index.ts';
import type { RunError } from './records.ts';

const DEFAULT_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5 * 60_000;

/** A step ended on its own terms: failed with a reason the run records. */
export class StepFailedError extends XynError {
  constructor(readonly error: RunError) {
    super(error.message, error.code, error.details ?? {});
  }
}

/** The error of a step as its record and the run's give it. */
export function runError(err: unknown, stepId?: string): RunError {
  if (err instanceof StepFailedError) return { ...err.error, ...(stepId ? { step_id: stepId } : {}) };
  const wire = serializeError(err);
  return { code: wire.code, message: wire.message, details: Object.keys(wire.details).length > 0 ? wire.details : null, ...(stepId ? { step_id: stepId } : {}) };
}

/** A transform's outputs: its `outputs` with every template evaluated. */
export function transformOutputs(step: Extract<BlueprintStep, { kind: 'transform' }>, context: TemplateContext): Record<string, unknown> {
  return resolveTemplates(step.outputs, context) as Record<string, unknown>;
}

export interface AttemptStart {
  attempt: number;
  /** The action's input as it may be recorded. */
  inputs: Record<string, unknown>;
  /** Whether this attempt may run again after a restart. */
  rerunnable: boolean;
}

export interface ActionRun {
  /** The run's signal: aborted when the run is cancelled, passes its wall clock, or the node stops. */
  signal: AbortSignal;
  context: TemplateContext;
  /** The attempt number to start from (a step re-run after a restart goes on counting). */
  firstAttempt: number;
  /** Told before each attempt, which it may record first (resolves before the action starts). */
  beginAttempt(a: AttemptStart): Promise<void>;
  actionContext(signal: AbortSignal): ActionContext;
}

/** Runs an action_task's action to its outputs, with its timeout and retries; throws why it failed. */
export async function runActionStep(step: Extract<BlueprintStep, { kind: 'action_task' }>, run: ActionRun): Promise<Record<string, unknown>> {
  const action: AnyAction = ACTION_PLUGINS[step.action];
  return runAttempts(action, parseActionInput(action, resolveTemplates(step.with, run.context)), step, run);
}

/** Runs an agent_task step through the node's agent action (its prompt and system templated), with its timeout and retries. */
export async function runAgentStep(step: Extract<BlueprintStep, { kind: 'agent_task' }>, agent: AnyAction, run: ActionRun): Promise<Record<string, unknown>> {
  const templated = (template: string) => {
    const value = resolveTemplates(template, run.context);
    // A prompt that is one whole template of an object (`{{steps.a.outputs.json}}`) is sent as its JSON.
    return typeof value === 'string' ? value : JSON.stringify(value);
  };
  const raw = {
    provider: step.provider,
    model: step.model,
    prompt: templated(step.prompt_template),
    output: step.output,
    ...(step.system !== undefined ? { system: templated(step.system) } : {}),
    ...(step.max_tokens !== undefined ? { max_tokens: step.max_tokens } : {}),
    ...(step.temperature !== undefined ? { temperature: step.temperature } : {}),
    ...(step.schema !== undefined ? { schema: step.schema } : {}),
  };
  return runAttempts(agent, parseActionInput(agent, raw), step, run);
}

/** `action` run on `input` to its outputs, under the step's timeout, retried as the step's `retries` and the action allow. */
async function runAttempts<I>(action: Action<I, Record<string, unknown>>, input: I, step: Pick<BlueprintStep, 'retries' | 'timeout' | 'backoff'> & { idempotent?: boolean | undefined }, run: ActionRun): Promise<Record<string, unknown>> {
  const rerunnable = step.idempotent ?? idempotentFor(action, input);
  const attempts = 1 + (rerunnable ? (step.retries ?? 0) : 0);
  const timeoutMs = step.timeout === undefined ? undefined : durationMs(step.timeout);
  const backoff = (step.backoff === undefined ? undefined : durationMs(step.backoff)) ?? DEFAULT_BACKOFF_MS;
  for (let attempt = run.firstAttempt; ; attempt++) {
    await run.beginAttempt({ attempt, inputs: redactedInput(action, input) as Record<string, unknown>, rerunnable });
    try {
      const out = await withTimeout(action.name, timeoutMs, run.signal, (signal) => timedExecute(action, input, run.actionContext(signal)));
      return action.output.parse(out) as Record<string, unknown>;
    } catch (err) {
      if (run.signal.aborted || !isRetryable(err) || attempt >= run.firstAttempt + attempts - 1) {
        if (!rerunnable && (step.retries ?? 0) > 0 && isRetryable(err) && err instanceof XynError) {
          throw new StepFailedError({ ...runError(err), details: { ...err.details, not_retried: `${action.name} is not idempotent for this input: retrying could do it twice (a step safe to repeat may say idempotent: true)` } });
        }
        throw err;
      }
      // Cut short when the run is cancelled: the next attempt then sees the signal and gives up.
      await sleep(Math.min(MAX_BACKOFF_MS, backoff * 2 ** (attempt - run.firstAttempt)), undefined, { signal: run.signal }).catch(() => undefined);
    }
  }
}

/** Runs the action, its wall_ms recorded as its footprint (§6.3) however it ends: each attempt adds to the step's one row. */
async function timedExecute(action: AnyAction, input: unknown, ctx: ActionContext): Promise<unknown> {
  const began = performance.now();
  try {
    return await action.execute(input, ctx);
  } finally {
    ctx.footprints?.record({ metric: 'wall_ms', quantity: Math.round(performance.now() - began), unit: 'ms', dims: { action: action.name } });
  }
}

/** `work` under the step's `timeout`: past it the action's signal aborts and the attempt fails ActionTimeoutError (which may be retried). */
async function withTimeout<T>(name: string, timeoutMs: number | undefined, outer: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (timeoutMs === undefined) return work(outer);
  const timer = new AbortController();
  const signal = AbortSignal.any([outer, timer.signal]);
  let handle: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    handle = setTimeout(() => {
      timer.abort();
      reject(new ActionTimeoutError(name, timeoutMs));
    }, timeoutMs);
  });
  try {
    // An action that does not heed its signal is let go of at the deadline all the same.
    return await Promise.race([work(signal), expired]);
  } catch (err) {
    if (timer.signal.aborted && !outer.aborted) throw new ActionTimeoutError(name, timeoutMs);
    throw err;
  } finally {
    clearTimeout(handle);
    expired.catch(() => undefined);
  }
}
