/** The node's artifacts: records, chunked bytes in the CAS, the ports runs and actions use. */
export { ArtifactBook, type ArtifactLimits, type ArtifactQuery, type ByteRange } from './artifact-book.ts';
export { artifactDto, CHUNK_BYTES, type Artifact, type ArtifactHeader, type ArtifactRecord } from './records.ts';
export { RunArtifacts, asChunks, type RunArtifactsScope } from './run-artifacts.ts';
export { StepLog, STEP_LOG_CONTENT_TYPE } from './step-log.ts';
export { ArtifactTooLargeError, ArtifactQuotaError, ArtifactNotFoundError, ArtifactStateError, ArtifactLengthError } from './errors.ts';
