/**
 * Artifacts through a node's API (`/api/v1/artifacts`): the `artifacts` of
 * XynClient, and what `xyn artifacts` calls. Uploads and downloads stream:
 * neither side holds a large artifact whole.
 *
 *   const a = await node.artifacts.upload(createReadStream('out.tar'), { name: 'out.tar', kind: 'bundle' });
 *   const { items } = await node.artifacts.list({ run_id, kind: 'log' });
 *   const { body } = await node.artifacts.download(a.artifact_id, { range: { start: 0, end: 1023 } });
 */
import type { Artifact } from '../xyn/artifacts/index.ts';
import { callNode, openNode, sendBytes, type NodeAddress } from './http.ts';

/** An artifact as the node gives it (seed 004 §45.5). */
export type ArtifactInfo = Artifact;

export interface UploadOptions {
  name: string;
  /** Default `file`. */
  kind?: string;
  /** Default application/octet-stream. */
  contentType?: string;
  runId?: string;
  stepId?: string;
  metadata?: Record<string, unknown>;
}

export interface ArtifactListQuery {
  run_id?: string;
  kind?: string;
  /** Only those whose name contains this, ignoring case. */
  name?: string;
  cursor?: string;
  limit?: number;
}

export interface ArtifactDownload {
  contentType: string;
  /** Bytes in `body` (the range's, when one was asked). */
  length: number;
  /** Its sha256, from the ETag. */
  sha256: string;
  body: AsyncIterable<Uint8Array>;
}

const id = encodeURIComponent;

export class ArtifactsClient {
  constructor(private readonly node: NodeAddress) {}

  /** Uploads bytes (a stream goes as it is read) as an artifact: its record, ready. */
  upload(body: string | Uint8Array | AsyncIterable<Uint8Array>, options: UploadOptions): Promise<ArtifactInfo> {
    const query = new URLSearchParams({ name: options.name, kind: options.kind ?? 'file' });
    if (options.runId) query.set('run_id', options.runId);
    if (options.stepId) query.set('step_id', options.stepId);
    if (options.metadata) query.set('metadata', JSON.stringify(options.metadata));
    return sendBytes(this.node, 'POST', `/api/v1/artifacts?${query}`, body, options.contentType ?? 'application/octet-stream');
  }

  /** A page of artifacts, newest first; pass `next_cursor` as `cursor` for the next. */
  list(query: ArtifactListQuery = {}): Promise<{ items: ArtifactInfo[]; next_cursor: string | null }> {
    const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]): [string, string] => [k, String(v)]));
    const qs = params.toString();
    return callNode(this.node, 'GET', `/api/v1/artifacts${qs ? `?${qs}` : ''}`);
  }

  get(artifactId: string): Promise<ArtifactInfo> {
    return callNode(this.node, 'GET', `/api/v1/artifacts/${id(artifactId)}`);
  }

  /** Its bytes, as they come; `range` (inclusive offsets) for part of them. */
  async download(artifactId: string, options: { range?: { start: number; end: number } } = {}): Promise<ArtifactDownload> {
    const { range } = options;
    const res = await openNode(this.node, `/api/v1/artifacts/${id(artifactId)}/download`, '*/*', range ? { range: `bytes=${range.start}-${range.end}` } : {});
    return {
      contentType: res.headers.get('content-type') ?? 'application/octet-stream',
      length: Number(res.headers.get('content-length') ?? 0),
      sha256: (res.headers.get('etag') ?? '').replaceAll('"', ''),
      body: (res.body ?? ReadableStream.from([])) as unknown as AsyncIterable<Uint8Array>,
    };
  }
}
