/**
 * An artifact's bytes as the UI serves them. They are untrusted content on
 * the node's own origin: an HTML or SVG artifact opened as a page could run
 * script as the node, with the viewer's session. So every answer here says
 *
 * - `Content-Security-Policy: sandbox; default-src 'none'` — a document
 *   made of them is a unique origin that runs no script and loads nothing;
 * - `X-Content-Type-Options: nosniff` — the browser takes the declared type
 *   and never guesses HTML from the bytes;
 * - a download is an attachment with a safe file name, never shown in place.
 */
import type { ApiResponse } from '../../api/router.ts';

export const UNTRUSTED_BYTES_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "sandbox; default-src 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'private, no-cache',
};

/**
 * `Content-Disposition: attachment` naming the file: `filename` an ASCII
 * stand-in (no quote, slash, control character or leading dot), and
 * `filename*` the name itself, percent-encoded (RFC 6266).
 */
export function attachment(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? '';
  const ascii = base.replace(/[^\w.\- ]/g, '_').replace(/^[.\s]+/, '').slice(0, 200) || 'artifact';
  const encoded = encodeURIComponent(base || ascii).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** The answer with the headers of untrusted bytes added to its own. */
export function asUntrusted(answer: ApiResponse, extra: Record<string, string> = {}): ApiResponse {
  const own = 'headers' in answer ? answer.headers : undefined;
  return { ...answer, headers: { ...own, ...UNTRUSTED_BYTES_HEADERS, ...extra } };
}

/** All the bytes of a download answer (a preview's head: at most PREVIEW_BYTES). */
export async function bytesOf(answer: ApiResponse): Promise<Buffer> {
  if ('bytes' in answer) return Buffer.from(answer.bytes);
  if (!('pieces' in answer)) throw new Error('a download answered neither bytes nor pieces');
  const pieces: Uint8Array[] = [];
  for await (const piece of answer.pieces) pieces.push(piece);
  return Buffer.concat(pieces);
}
