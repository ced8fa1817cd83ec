/**
 * Executors of the built-in `deploy.prime` kind (seed 002), run in the pool:
 * they call a service's endpoints so its registry and caches are warm before
 * traffic arrives, and record what they warmed.
 *
 * - `warm_registry`: `GET {base_url}/registry/{module}` for each module of
 *   the shard (one module from `by_module`, a dependency level from
 *   `by_dag_depth`).
 * - `prime_caches`: `GET {base_url}/cache/{module}` likewise.
 *
 * A response other than 2xx fails the shard (it is retried with backoff).
 * Output: `{status: 'warmed' | 'primed', module, cache_entries, warmed}`,
 * `warmed` listing each URL with its status and size.
 */
import type { ModuleShard } from '../partitioners/by-module.ts';
import type { DepthShard } from '../partitioners/by-dag-depth.ts';

export interface PrimeOutput {
  status: 'warmed' | 'primed';
  /** The module, or the modules of a level joined with ','. */
  module: string;
  cache_entries: number;
  warmed: { url: string; status: number; bytes: number }[];
}

async function call(kind: 'registry' | 'cache', input: unknown, config: Record<string, unknown>): Promise<PrimeOutput> {
  const base = String(config.base_url).replace(/\/+$/, '');
  const names = 'modules' in (input as object) ? (input as DepthShard).modules.map((m) => m.module) : [(input as ModuleShard).module];
  const warmed: PrimeOutput['warmed'] = [];
  for (const name of names) {
    const url = `${base}/${kind}/${encodeURIComponent(name)}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(Number(config.request_timeout_ms ?? 10_000)) });
    const body = await res.arrayBuffer();
    if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${res.statusText}`);
    warmed.push({ url, status: res.status, bytes: body.byteLength });
  }
  return { status: kind === 'registry' ? 'warmed' : 'primed', module: names.join(','), cache_entries: warmed.length, warmed };
}

export const executors = {
  warm_registry: (input: unknown, config: Record<string, unknown>): Promise<PrimeOutput> => call('registry', input, config),
  prime_caches: (input: unknown, config: Record<string, unknown>): Promise<PrimeOutput> => call('cache', input, config),
};
