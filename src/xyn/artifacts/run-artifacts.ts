/**
 * The artifacts port an action gets (ActionContext.artifacts): what it puts
 * is an artifact of its run and step, made by the run, and its bytes are a
 * footprint of the step (`artifact_bytes_written`) when footprints are kept.
 *
 *   const ctx = { ...ctx, artifacts: new RunArtifacts(book, { runId, stepId, createdBy: `xyn:run:${runId}` }) };
 *   await ctx.artifacts.put({ name: 'stdout', kind: 'file', content_type: 'text/plain', body: out });
 */
import type { ArtifactsPort, FootprintsPort } from '../actions/action.ts';
import type { ArtifactBook } from './artifact-book.ts';

export interface RunArtifactsScope {
  runId: string;
  stepId: string;
  createdBy: string;
  footprints?: FootprintsPort | undefined;
}

type Body = Parameters<ArtifactsPort['put']>[0]['body'];

export class RunArtifacts implements ArtifactsPort {
  constructor(
    private readonly book: ArtifactBook,
    private readonly scope: RunArtifactsScope,
  ) {}

  async put(input: Parameters<ArtifactsPort['put']>[0]): Promise<{ artifact_id: string; sha256: string; byte_length: number }> {
    const { runId, stepId, createdBy, footprints } = this.scope;
    const record = await this.book.put(
      { name: input.name, kind: input.kind, content_type: input.content_type, metadata: input.metadata, run_id: runId, step_id: stepId, created_by: createdBy },
      asChunks(input.body),
    );
    const byteLength = record.byte_length ?? 0;
    footprints?.record({ metric: 'artifact_bytes_written', quantity: byteLength, unit: 'bytes', dims: { kind: input.kind } });
    return { artifact_id: record.artifact_id, sha256: record.sha256 ?? '', byte_length: byteLength };
  }
}

/** A string or bytes as a stream of one piece; a stream as it is. */
export async function* asChunks(body: Body): AsyncGenerator<Uint8Array> {
  if (typeof body === 'string') yield Buffer.from(body, 'utf8');
  else if (body instanceof Uint8Array) yield body;
  else yield* body;
}
