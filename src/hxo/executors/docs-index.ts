/**
 * Executors of the built-in `docs.index` kind (seed 002), run in the pool.
 *
 * `docs_index` reads one route's page, checks it is still the file the plan
 * was made from (its sha256), and builds a search index of it — title, word
 * count, and each term with how often it occurs — kept as an artifact in the
 * node's content-addressed store. Output (seed 002 schema plus the index's
 * address): `{status: 'indexed', route, docs_indexed, title, terms, index}`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { canonicalEncode } from '../../core/canonical.ts';
import type { ShardContext } from '../plan/executor-loader.ts';
import type { RouteShard } from '../partitioners/by-route-map.ts';
import { NonRetryableError } from '../../core/errors.ts';

/** What `docs_index` stores for a page (canonical msgpack). */
export interface DocIndex {
  route: string;
  file: string;
  title: string;
  words: number;
  /** term → occurrences, terms in sorted order. */
  terms: Record<string, number>;
}

export interface DocsIndexOutput {
  status: 'indexed';
  route: string;
  docs_indexed: number;
  title: string;
  terms: number;
  /** sha256 of the DocIndex artifact. */
  index: string;
}

export const executors = {
  docs_index(input: unknown, config: Record<string, unknown>, shard: ShardContext): DocsIndexOutput {
    const { file, route, sha256 } = input as RouteShard;
    const bytes = readFileSync(resolve(config.root as string, file));
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256) throw new NonRetryableError(`${file} changed since the plan was made (sha256 ${actual.slice(0, 12)}…, planned ${sha256.slice(0, 12)}…): submit the plan again`, 'INPUT_CHANGED');
    const index = indexPage(route, file, bytes.toString('utf8'));
    return { status: 'indexed', route, docs_indexed: 1, title: index.title, terms: Object.keys(index.terms).length, index: shard.putArtifact(canonicalEncode(index)) };
  },
};

/** The page's title (its first `# ` heading, else the route) and its terms: runs of letters and digits, lowercased. */
export function indexPage(route: string, file: string, text: string): DocIndex {
  const counts = new Map<string, number>();
  let words = 0;
  for (const term of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    counts.set(term, (counts.get(term) ?? 0) + 1);
    words++;
  }
  const terms: Record<string, number> = {};
  for (const term of [...counts.keys()].sort()) terms[term] = counts.get(term) as number;
  const title = /^#\s+(.+?)\s*$/m.exec(text)?.[1] ?? route;
  return { route, file, title, words, terms };
}
