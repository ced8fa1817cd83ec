/** `by_route_map`: the docs partitioner, one shard per route of a route map. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PlanError } from '../engine-errors.ts';
import { listPartitioner } from './partitioner.ts';

const routeMapConfig = z.object({
  root: z.string().min(1),
  route_map: z.string().min(1).default('routes.json'),
});

/** A docs shard: one route of the route map and the file it serves, with that file's sha256 then. */
export interface RouteShard {
  file: string;
  route: string;
  sha256: string;
  stage_kind: string;
}

/**
 * `by_route_map`: one shard per route of the route map (`root/route_map`, a
 * JSON or YAML object of route → file under root), in route order. A shard's
 * input carries its file's sha256, so an edited page gets a new cas_id (and
 * runs again) while the others stay memoized.
 */
export const byRouteMap = listPartitioner('by_route_map', routeMapConfig, (config): RouteShard[] =>
  readRouteMap(config).map(({ route, file }) => ({
    file,
    route,
    sha256: createHash('sha256').update(readFileSync(resolve(config.root, file))).digest('hex'),
    stage_kind: 'docs.index',
  })),
);

function readRouteMap({ root, route_map }: z.infer<typeof routeMapConfig>): { route: string; file: string }[] {
  const path = resolve(root, route_map);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PlanError('config.route_map', `cannot read the route map ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new PlanError('config.route_map', `${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(err as Error).message.split('\n')[0]}`);
  }
  const map = z.record(z.string().min(1), z.string().min(1)).safeParse(parsed);
  if (!map.success) throw new PlanError('config.route_map', `${path} must map routes to files (an object of strings)`);
  const top = resolve(root);
  return Object.keys(map.data)
    .sort()
    .map((route) => {
      const file = map.data[route] as string;
      const full = resolve(top, file);
      if (!full.startsWith(top + sep)) throw new PlanError('config.route_map', `route ${route}: ${file} is outside ${top}`);
      if (!existsSync(full)) throw new PlanError('config.route_map', `route ${route}: ${full} does not exist`);
      return { route, file };
    });
}
