/**
 * The API's one error shape (seed 004 §45.7):
 * `{error: {code, message, details}, correlation_id}`, with a 4xx for every
 * fault of the caller. A 5xx means a bug or a broken node, never bad input.
 */
import { z } from 'zod';
import { XynError, ValidationError } from '../core/errors.ts';
import { PlanChangedError, PlanCollectedError, PlanError, PlanInUseError, PlanNotEndedError, PlanNotFoundError, PlanNotResumableError } from '../hxo/engine-errors.ts';
import { EventsTruncatedError, StorageFullError } from '../store/errors.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> | null = null,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: Record<string, unknown>) => new ApiError(400, 'bad_request', message, details ?? null);
export const notFound = (message: string) => new ApiError(404, 'not_found', message);
export const conflict = (message: string) => new ApiError(409, 'conflict', message);

/** What a thrown error means to the caller. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof PlanNotFoundError) return new ApiError(404, 'not_found', err.message);
  if (err instanceof PlanNotEndedError) return new ApiError(409, 'conflict', err.message);
  if (err instanceof PlanInUseError) return new ApiError(409, 'conflict', err.message, { used_by: err.users });
  if (err instanceof PlanNotResumableError) return new ApiError(409, 'conflict', err.message, { state: err.state });
  // Its checkpoints, outputs and artifacts are gone for good (retention); its report stays.
  if (err instanceof PlanCollectedError) return new ApiError(410, 'gone', err.message, { collected_at: err.collectedAt ?? null });
  if (err instanceof PlanChangedError) return new ApiError(409, 'conflict', err.message, { recorded_digest: err.recordedDigest, digest: err.digest });
  if (err instanceof PlanError) return new ApiError(422, 'invalid_plan', err.message, { field: err.field, rule: err.rule });
  // Gone for good (retention trimmed them): 410 naming where the kept events start.
  if (err instanceof EventsTruncatedError) return new ApiError(410, 'truncated', err.message, { oldest_seq: err.oldestSeq, since: err.since });
  if (err instanceof ValidationError) return new ApiError(400, 'bad_request', err.message, { field: err.field });
  // Not the caller's fault, and not a bug: the node's disk is full. Try again once it has room.
  if (err instanceof StorageFullError) return new ApiError(503, 'storage_full', err.message, { path: err.path });
  // Codes the xyn services answer with (xyn/drafts/errors.ts), mapped by code, not by class.
  if (err instanceof XynError && err.code === 'not_found') return new ApiError(404, 'not_found', err.message, err.details);
  if (err instanceof XynError && err.code === 'conflict') return new ApiError(409, 'conflict', err.message, err.details);
  // An artifact past a limit: the body is too large for this node (seed 004 §38.1); the message names the limit and its variable.
  if (err instanceof XynError && (err.code === 'artifact_too_large' || err.code === 'artifact_quota_exceeded')) return new ApiError(413, err.code, err.message, err.details);
  if (err instanceof XynError && err.code === 'artifact_length_mismatch') return new ApiError(400, err.code, err.message, err.details);
  if (err instanceof XynError && err.code === 'invalid_inputs') return new ApiError(400, 'invalid_inputs', err.message, err.details);
  // A stored record names a blob the CAS does not hold: not the caller's fault, but what it asked for is not there.
  if (err instanceof XynError && err.code === 'MISSING_BLOB') return new ApiError(404, 'missing_blob', err.message, err.details);
  // The node cannot open its secrets file (no XYN_SECRETS_KEY, another key's file): not the caller's fault, and not a bug either.
  if (err instanceof XynError && (err.code === 'SECRETS_KEY_MISSING' || err.code === 'SECRETS_KEY_WRONG' || err.code === 'SECRETS_FILE')) return new ApiError(503, 'secrets_unavailable', err.message, err.details);
  if (err instanceof XynError) return new ApiError(500, err.code.toLowerCase(), err.message);
  return new ApiError(500, 'internal', 'internal error (logged with this correlation id)');
}

/** The error answer's shape: its type here, and its schema in the OpenAPI document. */
export const ERROR_BODY = z.strictObject({
  error: z.strictObject({
    code: z.string().describe('stable, for programs: bad_request, unauthorized, forbidden, not_found, conflict, gone, truncated, invalid_plan, storage_full, …'),
    message: z.string().describe('for people: names the field, capability or limit at fault'),
    details: z.record(z.string(), z.unknown()).nullable().describe('the data of the error (field, oldest_seq, …), or null'),
  }),
  correlation_id: z.string().describe('as in the X-Correlation-Id header, and in the logs'),
});

export type ErrorBody = z.infer<typeof ERROR_BODY>;

export function errorBody(err: ApiError, correlationId: string): ErrorBody {
  return { error: { code: err.code, message: err.message, details: err.details }, correlation_id: correlationId };
}
