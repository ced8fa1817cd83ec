/**
 * What an artifact's page shows of its bytes: the first PREVIEW_BYTES as
 * text, JSON pretty-printed, JSON lines one value a line, an image by its
 * `raw` URL — or, for any other type, no preview and why.
 *
 * The bytes are untrusted: everything made here is text the templates
 * escape (`<%= %>`), so an HTML or SVG artifact shows as its source, never
 * as markup. Only the image types a browser decodes as pictures (never SVG,
 * which can hold script) are shown inline, from `/ui/artifacts/ID/raw`.
 */
import { StringDecoder } from 'node:string_decoder';
import { mediaType } from '../../api/artifact-upload.ts';

/** How much of an artifact a preview reads: enough to see what it is, little enough to render at once. */
export const PREVIEW_BYTES = 256 * 1024;

/** Images shown inline (an `<img>` of the raw route); nothing else is served inline. */
export const INLINE_IMAGE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

export type Preview =
  | { type: 'text'; text: string; cut: boolean; note?: string }
  | { type: 'json'; text: string }
  | { type: 'jsonl'; lines: string[]; cut: boolean }
  | { type: 'image'; src: string }
  | { type: 'none'; reason: string };

const JSON_TYPES = /^application\/(?:[\w.-]+\+)?json$/;
const JSONL_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines', 'application/jsonlines']);
const TEXT_TYPES = /^(?:text\/[\w.+-]+|application\/(?:[\w.-]+\+)?xml|image\/svg\+xml|application\/(?:x-)?(?:yaml|toml|javascript|sql|sh|csv))$/;

/** Will the preview read the bytes (text, JSON, JSON lines)? Images and other types do not. */
export function readsBytes(contentType: string): boolean {
  const type = mediaType(contentType);
  return JSON_TYPES.test(type) || JSONL_TYPES.has(type) || TEXT_TYPES.test(type);
}

/** The preview of an artifact of `contentType`, from the first bytes (`head`) of its `byteLength`. */
export function previewOf(artifactId: string, contentType: string, byteLength: number, head: Buffer | undefined): Preview {
  const type = mediaType(contentType);
  if (INLINE_IMAGE_TYPES.has(type)) return { type: 'image', src: `/ui/artifacts/${artifactId}/raw` };
  if (head === undefined || !readsBytes(type)) return { type: 'none', reason: `No preview for ${type || 'bytes of no declared type'}: download it to look inside.` };
  if (head.includes(0)) return { type: 'none', reason: `It says it is ${type}, but holds NUL bytes (binary): download it to look inside.` };
  const cut = byteLength > head.length;
  // A StringDecoder holds back a character the cut split in two, instead of showing half of it as garbage.
  const text = cut ? new StringDecoder('utf8').write(head) : head.toString('utf8');
  if (JSONL_TYPES.has(type)) return { type: 'jsonl', lines: jsonLines(text, cut), cut };
  if (JSON_TYPES.test(type)) {
    if (cut) return { type: 'text', text, cut, note: 'JSON this long is shown as it is, not pretty-printed.' };
    try {
      return { type: 'json', text: JSON.stringify(JSON.parse(text), null, 2) };
    } catch (err) {
      return { type: 'text', text, cut, note: `It is not valid JSON (${(err as Error).message}): shown as text.` };
    }
  }
  return { type: 'text', text, cut };
}

/** Each line's value as compact JSON (a line that is not JSON as it is); a last line the cut broke is left out. */
function jsonLines(text: string, cut: boolean): string[] {
  const lines = text.split('\n');
  if (cut) lines.pop();
  return lines
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.stringify(JSON.parse(line));
      } catch {
        return line;
      }
    });
}
