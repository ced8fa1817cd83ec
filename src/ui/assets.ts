/**
 * The files every page loads, served by the node itself (nothing is fetched
 * from the internet): htmx and uPlot from the package's own dependencies,
 * the UI's stylesheet, and its browser scripts — TypeScript in
 * src/ui/browser/, bundled with esbuild (comlink and @noble inside) the
 * first time one is asked for, then kept.
 *
 * Each answer carries an ETag (the sha256 of its bytes); a page revalidates
 * with it (`no-cache`), so a new node never serves a stale script.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ApiError } from '../api/errors.ts';
import { page, type PageRoute } from '../api/pages.ts';
import type { ParamShape } from '../api/params.ts';
import { UI_DIR } from './render.ts';

const require = createRequire(import.meta.url);

interface Asset {
  contentType: string;
  bytes: Buffer;
  etag: string;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** Files as they are: [name, content type, where]. */
const FILES: Record<string, [string, () => string]> = {
  'htmx.min.js': [JS, () => require.resolve('htmx.org/dist/htmx.min.js')],
  'uplot.min.js': [JS, () => require.resolve('uplot/dist/uPlot.iife.min.js')],
  'uplot.min.css': [CSS, () => require.resolve('uplot/dist/uPlot.min.css')],
  'xyn.css': [CSS, () => join(UI_DIR, 'static', 'xyn.css')],
  'favicon.svg': ['image/svg+xml', () => join(UI_DIR, 'static', 'favicon.svg')],
};

/** Browser scripts, bundled: the name served and its entry in src/ui/browser/. */
const BUNDLES = new Set(['events.js', 'plan.js', 'leaf-map-worker.js', 'verify.js', 'verify-worker.js']);

const ASSET_NAME: ParamShape = { pattern: /^[a-z0-9-]+\.(?:min\.)?(?:js|css|svg)$/, expected: 'an asset name such as htmx.min.js', example: 'htmx.min.js' };

export class Assets {
  private readonly cache = new Map<string, Promise<Asset>>();

  get(name: string): Promise<Asset> {
    let asset = this.cache.get(name);
    if (!asset) {
      asset = this.load(name);
      this.cache.set(name, asset);
      // A failed bundle is tried again next time (its source may be fixed), not kept.
      asset.catch(() => this.cache.delete(name));
    }
    return asset;
  }

  private async load(name: string): Promise<Asset> {
    const file = FILES[name];
    if (file) return withTag(file[0], readFileSync(file[1]()));
    if (BUNDLES.has(name)) return withTag(JS, await bundle(join(UI_DIR, 'browser', name.replace(/\.js$/, '.ts'))));
    throw new ApiError(404, 'not_found', `no asset ${name}`);
  }
}

async function bundle(entry: string): Promise<Buffer> {
  const { build } = await import('esbuild');
  const out = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'chrome110', minify: true, write: false, logLevel: 'silent', legalComments: 'none' });
  return Buffer.from((out.outputFiles[0] as { contents: Uint8Array }).contents);
}

function withTag(contentType: string, bytes: Buffer): Asset {
  return { contentType, bytes, etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"` };
}

export function assetPages(assets: Assets): PageRoute[] {
  return [
    page({
      method: 'GET',
      path: '/ui/assets/:name',
      params: { name: ASSET_NAME },
      capability: 'public',
      summary: 'a script or stylesheet the pages load',
      async handle(req) {
        const asset = await assets.get(req.params.name as string);
        return { contentType: asset.contentType, bytes: asset.bytes, headers: { ETag: asset.etag, 'Cache-Control': 'no-cache' } };
      },
    }),
  ];
}
