/**
 * Artifacts over HTTP (seed 004 §44.2, §45.5): upload one — raw, multipart,
 * or in two steps (a JSON create request answered with an `upload_url`,
 * then the bytes PUT there) — list them by run or kind, read one's record,
 * download its bytes whole or one byte range. Uploads and downloads stream:
 * a 250 MB artifact is never held in memory.
 *
 * Reading needs `xyn:artifacts:read`, uploading `xyn:artifacts:write`. A
 * body past XYN_ARTIFACT_MAX_BYTES, or one that would take the node past
 * XYN_ARTIFACTS_QUOTA_BYTES, is refused 413 naming the limit; what it had
 * sent is dropped.
 *
 *   POST /api/v1/artifacts?name=out.txt&kind=file   (body: the bytes)           → 201 the artifact
 *   POST /api/v1/artifacts {"name": "big.tar", "byte_length": 1048576}        → 201 {…, status: pending, upload_url}
 *   PUT  /api/v1/artifacts/{id}/upload               (body: the bytes)           → 200 the artifact, ready
 *   GET  /api/v1/artifacts/{id}/download   Range: bytes=0-99                    → 206 the first 100 bytes
 */
import { z } from 'zod';
import { artifactDto, type ArtifactBook } from '../../xyn/artifacts/index.ts';
import { ARTIFACT_CREATE, RAW_UPLOAD_QUERY, headerOf, mediaType, multipartUpload, rawHeader, readJsonBody } from '../artifact-upload.ts';
import { byteRange } from '../byte-range.ts';
import { ApiError, errorBody } from '../errors.ts';
import { RUN_ID } from '../params.ts';
import type { ParamShape } from '../params.ts';
import { route, type ApiRequest, type ApiResponse, type Route } from '../router.ts';
import { parseInput } from '../validate.ts';

export const ARTIFACT_ID: ParamShape = { pattern: RUN_ID.pattern, expected: 'an artifact id: a UUID (8-4-4-4-12 lowercase hex digits, the artifact_id an upload answered)', example: RUN_ID.example };
const NO_ARTIFACT = 'no artifact with that id';
const TOO_LARGE = 'the body is over XYN_ARTIFACT_MAX_BYTES (code artifact_too_large), or would take the node past XYN_ARTIFACTS_QUOTA_BYTES (code artifact_quota_exceeded)';

const listQuery = z.object({
  run_id: RAW_UPLOAD_QUERY.shape.run_id.describe("only this run's artifacts"),
  kind: RAW_UPLOAD_QUERY.shape.kind.describe('only artifacts of this kind (log, report, file …)'),
  name: z.string().min(1).max(256).optional().describe('only artifacts whose name contains this text, ignoring case'),
  cursor: z.string().regex(ARTIFACT_ID.pattern, { error: 'expected an artifact id (the next_cursor of the page before)' }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const uploadUrl = (artifactId: string): string => `/api/v1/artifacts/${artifactId}/upload`;

export function artifactRoutes(book: ArtifactBook): Route[] {
  const artifactId = (req: ApiRequest): string => req.params.id as string;
  return [
    route({
      method: 'POST',
      path: '/api/v1/artifacts',
      capability: 'xyn:artifacts:write',
      summary:
        'upload an artifact: raw bytes (what they are in the query: ?name=&kind=&run_id=&step_id=&metadata=), multipart/form-data (a "metadata" JSON field, then the "file" part), or — a JSON body and no ?name — a create request answered with an upload_url to PUT the bytes to',
      body: ARTIFACT_CREATE,
      query: RAW_UPLOAD_QUERY,
      upload: { consumes: ['application/json', 'multipart/form-data', 'application/octet-stream', '*/*'] },
      answers: {
        201: 'the artifact (ready); for a create request, pending with its upload_url',
        400: 'the query, metadata or create request names a field it refuses',
        413: TOO_LARGE,
      },
      async handle(req) {
        const stream = req.stream as AsyncIterable<Uint8Array>;
        const type = mediaType(req.contentType);
        const by = req.principal.id;
        if (type === 'application/json' && req.query.name === undefined) {
          const create = parseInput(ARTIFACT_CREATE, await readJsonBody(stream));
          const record = await book.create(headerOf(create, by), create.byte_length ?? null);
          return { status: 201, body: { ...artifactDto(record), upload_url: uploadUrl(record.artifact_id) } };
        }
        const record = type === 'multipart/form-data' ? await multipartUpload(stream, req.contentType, by, (h, b) => book.put(h, b)) : await book.put(rawHeader(req.query, req.contentType, by), stream);
        return { status: 201, body: artifactDto(record) };
      },
    }),
    {
      method: 'PUT',
      path: '/api/v1/artifacts/:id/upload',
      params: { id: ARTIFACT_ID },
      capability: 'xyn:artifacts:write',
      summary: "a pending artifact's bytes (the second step of a two-step upload): exactly byte_length of them, if it was declared",
      upload: { consumes: ['*/*'] },
      answers: { 200: 'the artifact, ready', 400: 'not as many bytes as byte_length declared (code artifact_length_mismatch)', 404: NO_ARTIFACT, 409: 'its bytes were already put, or are being put now', 413: TOO_LARGE },
      async handle(req) {
        return { body: artifactDto(await book.upload(artifactId(req), req.stream as AsyncIterable<Uint8Array>)) };
      },
    },
    route({
      method: 'GET',
      path: '/api/v1/artifacts',
      capability: 'xyn:artifacts:read',
      summary: 'the artifacts, newest first, a page at a time (?run_id=&kind=&name=&cursor=&limit=)',
      query: listQuery,
      answers: { 200: '{items, next_cursor}: artifacts; next_cursor null on the last page' },
      handle(req) {
        const { run_id, kind, name, cursor, limit } = req.query;
        const page = book.list({ limit, ...(run_id ? { run_id } : {}), ...(kind ? { kind } : {}), ...(name ? { name } : {}), ...(cursor ? { cursor } : {}) });
        return { body: { items: page.items.map(artifactDto), next_cursor: page.next_cursor } };
      },
    }),
    {
      method: 'GET',
      path: '/api/v1/artifacts/:id',
      params: { id: ARTIFACT_ID },
      capability: 'xyn:artifacts:read',
      summary: "an artifact's record: name, kind, content type, byte length, sha256, its run and step, metadata",
      answers: { 200: 'the artifact', 404: NO_ARTIFACT },
      handle: (req) => ({ body: artifactDto(book.get(artifactId(req))) }),
    },
    {
      method: 'GET',
      path: '/api/v1/artifacts/:id/download',
      params: { id: ARTIFACT_ID },
      capability: 'xyn:artifacts:read',
      summary: "an artifact's bytes, with its content type, length and ETag (its sha256); one byte range (Range: bytes=a-b) answers 206",
      produces: ['*/*'],
      answers: { 200: 'the bytes', 206: 'the range asked for (Content-Range)', 404: NO_ARTIFACT, 409: 'the artifact is pending: its bytes were not uploaded yet', 416: 'the range starts past the end (Content-Range: bytes */<length>)' },
      handle: (req) => download(book, artifactId(req), req),
    },
  ];
}

function download(book: ArtifactBook, id: string, req: ApiRequest): ApiResponse {
  const record = book.ready(id);
  const length = record.byte_length ?? 0;
  const headers = { ETag: `"${record.sha256 ?? ''}"`, 'Accept-Ranges': 'bytes' };
  const asked = req.range === '' ? 'whole' : byteRange(req.range, length);
  if (asked === 'unsatisfiable') {
    const refusal = new ApiError(416, 'range_not_satisfiable', `the range ${req.range.slice(0, 60)} starts past the end: the artifact has ${length} bytes`, { byte_length: length });
    return { status: 416, contentType: 'application/json', headers: { ...headers, 'Content-Range': `bytes */${length}` }, bytes: Buffer.from(JSON.stringify(errorBody(refusal, req.correlationId))) };
  }
  if (asked === 'whole') return { contentType: record.content_type, length, headers, pieces: book.read(id) };
  return { status: 206, contentType: record.content_type, length: asked.end - asked.start + 1, headers: { ...headers, 'Content-Range': `bytes ${asked.start}-${asked.end}/${length}` }, pieces: book.read(id, asked) };
}
