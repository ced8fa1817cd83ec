/**
 * What an action's failure means to the runner: each class says whether
 * trying again might mend it (`retryable`, read by core's isRetryable), and
 * each is registered so it keeps its class across a thread hop.
 *
 *   throw new ActionInputError('url: must be an http or https URL', 'url'); // not retried
 */
import { NonRetryableError, XynError, registerErrorClass } from '../../core/errors.ts';

/** A step's `with` the action refuses: `field` names what is wrong (relative to `with`). Not retryable. */
export class ActionInputError extends NonRetryableError {
  readonly field: string;

  constructor(message: string, field: string) {
    super(message, 'ACTION_INPUT', { field });
    this.field = field;
  }
}

/** The action did not finish within its time limit; a later try may. */
export class ActionTimeoutError extends XynError {
  readonly timeout_ms: number;

  constructor(action: string, timeoutMs: number) {
    super(`${action} did not finish within timeout_ms (${timeoutMs} ms)`, 'ACTION_TIMEOUT', { action, timeout_ms: timeoutMs });
    this.timeout_ms = timeoutMs;
  }
}

/** The run's signal stopped the action (the run was cancelled or the node stops): not retried by the step. */
export class ActionAbortedError extends NonRetryableError {
  constructor(action: string) {
    super(`${action} was aborted`, 'ACTION_ABORTED', { action });
  }
}

/** A limit of the action's input was passed (e.g. max_response_bytes): the same call passes it again. */
export class ActionLimitError extends NonRetryableError {
  readonly limit: string;

  constructor(message: string, limit: string, value: number) {
    super(message, 'ACTION_LIMIT', { limit, value });
    this.limit = limit;
  }
}

/** The peer could not be reached (refused, reset, DNS): a later try may reach it. */
export class ActionNetworkError extends XynError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'ACTION_NETWORK', {}, options);
  }
}

/** An HTTP status outside the accepted ones: retryable for 5xx and 429, not for the other 4xx (the same request is refused again). */
export class HttpStatusError extends XynError {
  readonly status: number;
  readonly retryable: boolean;

  constructor(status: number, expected: string, bodyExcerpt: string) {
    super(`HTTP status ${status} is not ${expected}`, 'HTTP_STATUS', { status, expected, body_excerpt: bodyExcerpt });
    this.status = status;
    this.retryable = status >= 500 || status === 429;
  }
}

/** The plan a step submitted ended failed or aborted: no certified root for later steps; the same plan ends the same. */
export class PlanFailedActionError extends NonRetryableError {
  readonly planId: string;
  readonly state: string;

  constructor(planId: string, state: string, reason: string | undefined) {
    super(`plan ${planId} ended ${state}${reason ? `: ${reason}` : ''}`, 'PLAN_FAILED', { plan_id: planId, state, reason: reason ?? null });
    this.planId = planId;
    this.state = state;
  }
}

/** A step names a secret (a `*_ref` field) and its run has no secret store to resolve it from. */
export class SecretsUnavailableError extends NonRetryableError {
  constructor(action: string, field: string) {
    super(`${action}: ${field} names a secret, and this node runs workflows without a secret store (a node started by startNode has one: XYN_SECRET_* variables, then <data dir>/secrets.enc)`, 'SECRETS_UNAVAILABLE', { action, field });
  }
}

for (const cls of [SecretsUnavailableError, ActionInputError, ActionTimeoutError, ActionAbortedError, ActionLimitError, ActionNetworkError, HttpStatusError, PlanFailedActionError]) {
  registerErrorClass(cls);
}
