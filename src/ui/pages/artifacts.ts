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
import { page, type PageRequest, type PageRoute } from '../../api/pages.ts';
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
  const params = { artifact_id: ARTIFACT_ID };
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
    page({
      method: 'GET',
      path: '/ui/artifacts/:artifact_id',
      params,
      capability: 'xyn:artifacts:read',
      summary: "an artifact's record and a preview of its bytes",
      async handle(req) {
        const id = req.params.artifact_id as string;
        const artifact = await req.api.json<Artifact>('GET', apiPath(id));
        const length = artifact.byte_length ?? 0;
        const ready = artifact.status === 'ready';
        let head: Buffer | undefined;
        if (ready && readsBytes(artifact.content_type)) {
          const range = length > PREVIEW_BYTES ? `bytes=0-${PREVIEW_BYTES - 1}` : '';
          head = await bytesOf(await req.api.call('GET', `${apiPath(id)}/download`, { range }));
        }
        const preview = ready ? previewOf(id, artifact.content_type, length, head) : { type: 'none', reason: 'Its bytes were not uploaded yet (pending): nothing to preview or download.' };
        return view(req, 'artifact', { artifact, preview, previewBytes: PREVIEW_BYTES });
      },
    }),
    page({
      method: 'GET',
      path: '/ui/artifacts/:artifact_id/download',
      params,
      capability: 'xyn:artifacts:read',
      summary: "an artifact's bytes as an attachment (one byte range with Range: bytes=a-b)",
      async handle(req) {
        const id = req.params.artifact_id as string;
        const artifact = await req.api.json<Artifact>('GET', apiPath(id));
        const answer = await req.api.call('GET', `${apiPath(id)}/download`, { range: req.range });
        return asUntrusted(answer, { 'Content-Disposition': attachment(artifact.name) });
      },
    }),
    page({
      method: 'GET',
      path: '/ui/artifacts/:artifact_id/raw',
      params,
      capability: 'xyn:artifacts:read',
      summary: 'the bytes of an image artifact (png, jpeg, gif, webp), shown inline by its preview',
      async handle(req) {
        const id = req.params.artifact_id as string;
        const artifact = await req.api.json<Artifact>('GET', apiPath(id));
        const type = mediaType(artifact.content_type);
        if (!INLINE_IMAGE_TYPES.has(type)) {
          throw new ApiError(415, 'unsupported_media_type', `only png, jpeg, gif and webp images are shown inline, and artifact ${id} is ${type}: download it from /ui/artifacts/${id}/download`);
        }
        return asUntrusted(await req.api.call('GET', `${apiPath(id)}/download`), { 'Content-Disposition': 'inline' });
      },
    }),
  ];
}
