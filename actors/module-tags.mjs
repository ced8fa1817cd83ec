// Module loader hooks (module.register) of every thread that loads users'
// job-kind modules. A module is imported as `file?xyn-module=TAG&xyn-root=DIR`
// (TAG: the sha256 of its files, DIR: its folder; src/kernel/module-tags.ts)
// so that an edited module is loaded afresh rather than served from the
// module cache. Its relative imports inside DIR inherit both here, so the
// files it imports from its folder are fresh too, and a process never runs
// old code under a new identity. Imports outside DIR (xyn itself, shared
// code) load as usual: one copy per thread. Plain JS: Node's own loader runs
// it, from source and from the build alike.
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
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
