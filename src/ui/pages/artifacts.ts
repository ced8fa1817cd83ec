/**
 * The artifact pages (seed 004 §44.1, §44.4): the browser (`/ui/artifacts`,
 * filtered by run, kind and name, a page at a time; its list is the htmx partial
 * `/ui/artifacts/_list`), one artifact's record with a preview of its bytes
 * (`/ui/artifacts/ID`), and the bytes themselves (`…/download`, and `…/raw`
 * for the images the preview shows). Each reads the API's artifact routes in
 * process, so it shows exactly what `GET /api/v1/artifacts…` would answer
 * the viewer; the bytes are served as untrusted (artifact-bytes.ts).
 */
import { z } from 'zod';
import { mediaType } from '../../api/artifact-upload.ts';
import { ApiError } from '../../api/errors.ts';
import { page, type PageRequest, type PageResponse, type PageRoute } from '../../api/pages.ts';
import type { ApiResponse } from '../../api/router.ts';
import { ARTIFACT_ID } from '../../api/routes/artifacts.ts';
import type { Artifact } from '../../xyn/artifacts/index.ts';
import { FORMAT, view } from '../render.ts';
import { asUntrusted, attachment, bytesOf } from './artifact-bytes.ts';
import { INLINE_IMAGE_TYPES, PREVIEW_BYTES, previewOf, readsBytes } from './artifact-preview.ts';

interface ArtifactPage {
  items: Artifact[];
  next_cursor: string | null;
}

/** The browser's filters and paging, as the list route takes them (it checks them: a bad one is its 400). */
const listQuery = z.object({
  run_id: z.string().optional(),
  kind: z.string().optional(),
  name: z.string().optional(),
  cursor: z.string().optional(),
  limit: z.string().optional(),
});
type ListQuery = z.output<typeof listQuery>;

const apiPath = (id: string): string => `/api/v1/artifacts/${id}`;

/** A page of one artifact, given its record as the API reads it (an unknown id is the API's 404). */
function oneArtifact(path: string, summary: string, handle: (req: PageRequest, artifact: Artifact) => Promise<PageResponse>): PageRoute {
  return page({
    method: 'GET',
    path,
    params: { artifact_id: ARTIFACT_ID },
    capability: 'xyn:artifacts:read',
    summary,
    async handle(req) {
      return handle(req, await req.api.json<Artifact>('GET', apiPath(req.params.artifact_id as string)));
    },
  });
}

/** The API's download of the artifact's bytes, or of one range of them (`range` '' for all). */
function bytes(req: PageRequest, artifact: Artifact, range: string): Promise<ApiResponse> {
  return req.api.call('GET', `${apiPath(artifact.artifact_id)}/download`, { range });
}

/** One page of the list for the filters asked, or the list route's refusal of them (shown above the list). */
async function listing(req: PageRequest<unknown, ListQuery>): Promise<{ filters: ListQuery; list?: ArtifactPage; problem?: string }> {
  const filters = { run_id: req.query.run_id?.trim() ?? '', kind: req.query.kind?.trim() ?? '', name: req.query.name?.trim() ?? '', cursor: req.query.cursor ?? '', limit: req.query.limit ?? '' };
  try {
    return { filters, list: await req.api.json<ArtifactPage>('GET', '/api/v1/artifacts', { query: filters }) };
  } catch (err) {
    if (err instanceof ApiError && err.status === 400) return { filters, problem: err.message };
    throw err;
  }
}

export function artifactPages(): PageRoute[] {
  return [
    page({
      method: 'GET',
      path: '/ui/artifacts',
      capability: 'xyn:artifacts:read',
      summary: 'the artifacts, newest first, filtered by run, kind and name, a page at a time',
      query: listQuery,
      async handle(req) {
        const data = await listing(req);
        return view(req, 'artifacts', data, { status: data.problem ? 400 : 200 });
      },
    }),
    page({
      method: 'GET',
      path: '/ui/artifacts/_list',
      capability: 'xyn:artifacts:read',
      summary: 'a page of the artifact list (partial)',
      query: listQuery,
      async handle(req) {
        const data = await listing(req);
        const html = view({ ...req, htmx: true }, '_artifacts', data, { fragment: '_artifacts' }).html;
        // htmx swaps only a 2xx answer in: a refused filter is shown to it in the list, and is a 400 to anyone else. The address bar follows the filters.
        return { status: data.problem && !req.htmx ? 400 : 200, html, headers: { 'HX-Push-Url': `/ui/artifacts${FORMAT.query(data.filters)}` } };
      },
    }),
    oneArtifact('/ui/artifacts/:artifact_id', "an artifact's record and a preview of its bytes", async (req, artifact) => {
      const length = artifact.byte_length ?? 0;
      const ready = artifact.status === 'ready';
      let head: Buffer | undefined;
      if (ready && readsBytes(artifact.content_type)) head = await bytesOf(await bytes(req, artifact, length > PREVIEW_BYTES ? `bytes=0-${PREVIEW_BYTES - 1}` : ''));
      const preview = ready ? previewOf(artifact.artifact_id, artifact.content_type, length, head) : { type: 'none', reason: 'Its bytes were not uploaded yet (pending): nothing to preview or download.' };
      return view(req, 'artifact', { artifact, preview, previewBytes: PREVIEW_BYTES });
    }),
    oneArtifact('/ui/artifacts/:artifact_id/download', "an artifact's bytes as an attachment (one byte range with Range: bytes=a-b)", async (req, artifact) =>
      asUntrusted(await bytes(req, artifact, req.range), { 'Content-Disposition': attachment(artifact.name) }),
    ),
    oneArtifact('/ui/artifacts/:artifact_id/raw', 'the bytes of an image artifact (png, jpeg, gif, webp), shown inline by its preview', async (req, artifact) => {
      const type = mediaType(artifact.content_type);
      if (!INLINE_IMAGE_TYPES.has(type)) {
        const id = artifact.artifact_id;
        throw new ApiError(415, 'unsupported_media_type', `only png, jpeg, gif and webp images are shown inline, and artifact ${id} is ${type}: download it from /ui/artifacts/${id}/download`);
      }
      return asUntrusted(await bytes(req, artifact, ''), { 'Content-Disposition': 'inline' });
    }),
  ];
}
