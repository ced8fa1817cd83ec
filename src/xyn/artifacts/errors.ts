/**
 * Errors of the artifact store, with the codes the API answers with: a limit
 * refused names the limit, its value and the variable that raises it.
 */
import { XynError, registerErrorClass } from '../../core/errors.ts';

/** An artifact past XYN_ARTIFACT_MAX_BYTES (the API's 413). */
export class ArtifactTooLargeError extends XynError {
  /** The same bytes are as large next time. */
  readonly retryable = false;
  constructor(readonly limit: number) {
    super(`the artifact is over the limit of ${limit} bytes for one artifact (XYN_ARTIFACT_MAX_BYTES; raise it to keep larger ones)`, 'artifact_too_large', { limit, variable: 'XYN_ARTIFACT_MAX_BYTES' });
  }
}

/** An artifact that would take the node's artifacts past XYN_ARTIFACTS_QUOTA_BYTES (the API's 413). */
export class ArtifactQuotaError extends XynError {
  /** Nothing frees room on its own: a retry would be refused the same way. */
  readonly retryable = false;
  constructor(
    readonly quota: number,
    readonly used: number,
  ) {
    super(`the node's artifacts would be over their quota of ${quota} bytes (${used} held; XYN_ARTIFACTS_QUOTA_BYTES; raise it, or make room)`, 'artifact_quota_exceeded', { quota, used, variable: 'XYN_ARTIFACTS_QUOTA_BYTES' });
  }
}

/** No artifact of that id. */
export class ArtifactNotFoundError extends XynError {
  constructor(readonly artifactId: string) {
    super(`no artifact ${artifactId}`, 'not_found', { artifact_id: artifactId });
  }
}

/** The artifact is not where the request needs it: bytes put twice, or read before they are there (the API's 409). */
export class ArtifactStateError extends XynError {
  constructor(message: string, artifactId: string) {
    super(message, 'conflict', { artifact_id: artifactId });
  }
}

/** The bytes put are not as many as the creator declared (the API's 400). */
export class ArtifactLengthError extends XynError {
  constructor(
    readonly declared: number,
    readonly received: number,
  ) {
    super(`the upload has ${received} bytes; the artifact was declared with byte_length ${declared}: send exactly that many`, 'artifact_length_mismatch', { declared, received });
  }
}

registerErrorClass(ArtifactTooLargeError);
registerErrorClass(ArtifactQuotaError);
registerErrorClass(ArtifactNotFoundError);
registerErrorClass(ArtifactStateError);
registerErrorClass(ArtifactLengthError);
