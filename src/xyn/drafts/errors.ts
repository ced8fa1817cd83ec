/**
 * Errors of drafts and promoted blueprints, with the codes the API answers
 * with (`not_found`, `conflict`), so a route maps them without a table.
 */
import { XynError, registerErrorClass } from '../../core/errors.ts';

/** No such draft (or no such revision of it). */
export class DraftNotFoundError extends XynError {
  constructor(
    readonly draftId: string,
    readonly revision?: number,
  ) {
    super(revision === undefined ? `no draft ${draftId}` : `draft ${draftId} has no revision ${revision}`, 'not_found', { draft_id: draftId, revision: revision ?? null });
  }
}

/** No promoted blueprint of that id (or no such version of it). */
export class BlueprintNotFoundError extends XynError {
  constructor(
    readonly blueprintId: string,
    readonly version?: number,
  ) {
    super(
      version === undefined ? `no promoted blueprint ${blueprintId}` : `blueprint ${blueprintId} has no version ${version}`,
      'not_found',
      { blueprint_id: blueprintId, version: version ?? null },
    );
  }
}

/** The request is refused by the state it met; the message says why (a stale revision, one not validated, ...). */
export class ConflictError extends XynError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message, 'conflict', details);
  }
}

registerErrorClass(DraftNotFoundError);
registerErrorClass(BlueprintNotFoundError);
registerErrorClass(ConflictError);
