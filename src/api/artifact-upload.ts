/**
 * The forms an artifact's bytes come in over HTTP (seed 004 §45.5's direct
 * upload), read as they arrive, never held whole:
 *
 * - raw: the body is the bytes, its Content-Type theirs, what they are in
 *   the query (`?name=&kind=&run_id=&step_id=&metadata=<json>`);
 * - multipart/form-data: a `metadata` field (an ArtifactCreateRequest as
 *   JSON) first, then the `file` part (busboy, streaming);
 * - and the small JSON body of a two-step upload's first step.
 */
import { once } from 'node:events';
import busboy from 'busboy';
import { z } from 'zod';
import type { ArtifactHeader, ArtifactRecord } from '../xyn/artifacts/index.ts';
import { ApiError, badRequest } from './errors.ts';
import { RUN_ID, STEP_ID } from './params.ts';
import { parseInput } from './validate.ts';

/** Largest JSON read from an upload route: a create request, or a multipart's metadata field. */
const MAX_JSON_BYTES = 64 * 1024;
const NAME_MAX = 256;

const name = z.string().min(1).max(NAME_MAX).describe("the artifact's name (a file name, `stdout`, …)");
const kind = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, { error: 'expected a kind: a lowercase letter, then lowercase letters, digits, _ . - (log, report, bundle, file …)' });
const contentType = z.string().regex(/^[\w.+-]+\/[\w.+-]+(?:\s*;.*)?$/, { error: 'expected a media type such as text/plain or application/json' }).max(200);
const runId = z.string().regex(RUN_ID.pattern, { error: `expected ${RUN_ID.expected}` });
const stepId = z.string().regex(STEP_ID.pattern, { error: `expected ${STEP_ID.expected}` });
const metadata = z.record(z.string(), z.unknown());

/** Seed 004 §45.5's ArtifactCreateRequest. */
export const ARTIFACT_CREATE = z.strictObject({
  name,
  kind: kind.default('file').describe('log | report | bundle | file …'),
  content_type: contentType.default('application/octet-stream'),
  byte_length: z.number().int().min(0).nullable().optional().describe('if given, the upload must have exactly this many bytes'),
  run_id: runId.nullable().optional(),
  step_id: stepId.nullable().optional(),
  metadata: metadata.default({}),
});

/** What a raw upload says of its bytes in the query. */
export const RAW_UPLOAD_QUERY = z.object({
  name: name.optional().describe("the artifact's name: a raw upload needs it (its absence, with a JSON body, makes the body a two-step create request)"),
  kind: kind.optional().describe('default file'),
  run_id: runId.optional(),
  step_id: stepId.optional(),
  metadata: z.string().max(MAX_JSON_BYTES).optional().describe('a JSON object'),
});

export type CreateRequest = z.infer<typeof ARTIFACT_CREATE>;
type Put = (header: ArtifactHeader, body: AsyncIterable<Uint8Array>) => Promise<ArtifactRecord>;

/** The media type of a Content-Type, lowercase, without its parameters. */
export function mediaType(header: string): string {
  return header.split(';')[0]?.trim().toLowerCase() ?? '';
}

/** A create request's header for the book. */
export function headerOf(req: CreateRequest, createdBy: string): ArtifactHeader {
  return { name: req.name, kind: req.kind, content_type: req.content_type, run_id: req.run_id ?? null, step_id: req.step_id ?? null, metadata: req.metadata, created_by: createdBy };
}

/** A small JSON body read from the stream (413 past MAX_JSON_BYTES; 400 when not JSON). */
export async function readJsonBody(stream: AsyncIterable<Uint8Array>, field = 'body'): Promise<unknown> {
  const pieces: Uint8Array[] = [];
  let size = 0;
  for await (const piece of stream) {
    size += piece.byteLength;
    if (size > MAX_JSON_BYTES) throw new ApiError(413, 'payload_too_large', `the ${field} is over ${MAX_JSON_BYTES} bytes of JSON`);
    pieces.push(piece);
  }
  return parseJson(Buffer.concat(pieces).toString('utf8'), field);
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`${field} is not valid JSON: ${(err as Error).message}`, { field });
  }
}

/** A raw upload: the query's fields and the Content-Type say what the body is. */
export function rawHeader(query: z.infer<typeof RAW_UPLOAD_QUERY>, contentTypeHeader: string, createdBy: string): ArtifactHeader {
  if (query.name === undefined) throw badRequest('query.name: a raw upload needs the artifact\'s name (?name=report.txt); or send multipart/form-data, or a JSON create request', { field: 'query.name' });
  const fields = query.metadata === undefined ? {} : parseInput(metadata, parseJson(query.metadata, 'query.metadata'), 'query');
  const type = contentTypeHeader === '' ? 'application/octet-stream' : parseInput(contentType, contentTypeHeader.trim());
  return { name: query.name, kind: query.kind ?? 'file', content_type: type, run_id: query.run_id ?? null, step_id: query.step_id ?? null, metadata: fields, created_by: createdBy };
}

/**
 * A multipart upload: its `metadata` field, then its `file` part streamed to
 * `put`. Feeding busboy stops as soon as `put` fails (a limit passed).
 */
export async function multipartUpload(stream: AsyncIterable<Uint8Array>, contentTypeHeader: string, createdBy: string, put: Put): Promise<ArtifactRecord> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: { 'content-type': contentTypeHeader }, limits: { files: 1, fields: 1, fieldSize: MAX_JSON_BYTES } });
  } catch (err) {
    throw badRequest(`the multipart Content-Type cannot be read: ${(err as Error).message}`, { field: 'content-type' });
  }
  const stop = new AbortController();
  let request: CreateRequest | undefined;
  let filePart = false;
  const stored = new Promise<ArtifactRecord>((resolve, reject) => {
    const fail = (err: unknown): void => {
      stop.abort();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    parser.on('field', (field, value) => {
      if (field !== 'metadata') return fail(badRequest(`the multipart field ${JSON.stringify(field.slice(0, 60))} is not read: send a "metadata" field, then a "file" part`, { field }));
      try {
        request = parseInput(ARTIFACT_CREATE.omit({ byte_length: true }).partial({ name: true }), parseJson(value, 'metadata')) as CreateRequest;
      } catch (err) {
        fail(err);
      }
    });
    parser.on('file', (field, file, info) => {
      filePart = true;
      if (field !== 'file' || request === undefined) {
        file.resume();
        return fail(badRequest(field !== 'file' ? `the multipart part ${JSON.stringify(field.slice(0, 60))} is not read: the bytes go in a part named "file"` : 'the "metadata" field must come before the "file" part', { field }));
      }
      const header = headerOf({ ...request, name: request.name ?? info.filename, content_type: request.content_type === 'application/octet-stream' ? info.mimeType : request.content_type }, createdBy);
      if (!header.name) return fail(badRequest('metadata.name: the artifact needs a name (in metadata, or the file part\'s filename)', { field: 'metadata.name' }));
      put(header, file).then(resolve, (err: unknown) => {
        file.resume();
        fail(err);
      });
    });
    parser.on('error', (err) => fail(badRequest(`the multipart body is malformed: ${(err as Error).message}`)));
    parser.on('close', () => {
      if (!filePart) fail(badRequest('the multipart body has no "file" part', { field: 'file' }));
    });
  });
  // Not awaited: once the artifact is stored, or refused, feeding stops (it never throws).
  void feed(stream, parser, stop.signal);
  try {
    return await stored;
  } finally {
    stop.abort();
  }
}

/** Writes the body into busboy as it drains, until it ends or `signal` says stop. */
async function feed(stream: AsyncIterable<Uint8Array>, parser: busboy.Busboy, signal: AbortSignal): Promise<void> {
  try {
    for await (const piece of stream) {
      if (signal.aborted) return;
      if (!parser.write(piece)) await once(parser, 'drain', { signal });
    }
    parser.end();
  } catch (err) {
    // The client went away, or the upload already failed: `stored` says which.
    parser.destroy(signal.aborted ? undefined : (err as Error));
  }
}
