// Module loader hooks (module.register) of every thread that loads users'
// job-kind modules. A module is imported as `file?xyn-module=TAG&xyn-root=DIR`
// (TAG: the sha256 of its files, DIR: its folder; src/hxo/plan/module-tags.ts)
// so that an edited module is loaded afresh rather than served from the
// module cache. Its relative imports inside DIR inherit both here, so the
// files it imports from its folder are fresh too, and a process never runs
// old code under a new identity. Imports outside DIR (xyn itself, shared
// code) load as usual: one copy per thread. Plain JS: Node's own loader runs
// it, from source and from the build alike.
//
// A user's module may be TypeScript (`.ts`, `.mts`): a tagged module and
// the files it imports from its folder are compiled here with esbuild
// (types stripped, nothing checked), so a built node — which has no tsx —
// loads them as a source checkout does. Its relative imports may name a
// `.ts` file by its `.js` name, as TypeScript's own convention has it.
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TS = /\.[cm]?ts$/;

/** A relative `./x.js` of a tagged module that names `./x.ts`. */
async function resolveTs(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    const tagged = context.parentURL && new URL(context.parentURL).searchParams.has('xyn-module');
    if (!tagged || err?.code !== 'ERR_MODULE_NOT_FOUND' || !/^\.\.?\/.*\.[cm]?js$/.test(specifier)) throw err;
    return nextResolve(specifier.replace(/\.([cm]?)js$/, '.$1ts'), context);
  }
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:')) return nextLoad(url, context);
  const parsed = new URL(url);
  if (!parsed.searchParams.has('xyn-module') || !TS.test(parsed.pathname)) return nextLoad(url, context);
  // Read as it is (no format of Node's own for .ts on Node 20), then compiled.
  const { source } = await nextLoad(url, { ...context, format: 'module' });
  const { transform } = await import('esbuild');
  const file = fileURLToPath(parsed);
  const { code } = await transform(String(source), { loader: 'ts', format: 'esm', sourcemap: 'inline', sourcefile: file, target: 'node20' });
  return { format: 'module', source: code, shortCircuit: true };
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await resolveTs(specifier, context, nextResolve);
  const parent = context.parentURL;
  if (!parent || !resolved.url.startsWith('file:') || !(specifier.startsWith('./') || specifier.startsWith('../'))) return resolved;
  const from = new URL(parent);
  const tag = from.searchParams.get('xyn-module');
  const root = from.searchParams.get('xyn-root');
  if (!tag || !root) return resolved;
  const url = new URL(resolved.url);
  if (url.searchParams.has('xyn-module') || !fileURLToPath(url).startsWith(root + sep)) return resolved;
  url.searchParams.set('xyn-module', tag);
  url.searchParams.set('xyn-root', root);
  return { ...resolved, url: url.href };
}
