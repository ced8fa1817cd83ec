/** `by_dag_depth`: a workspace's modules by dependency level. */
import { join } from 'node:path';
import type { z } from 'zod';
import { PlanError } from '../engine-errors.ts';
import { listPartitioner } from './partitioner.ts';
import { moduleConfig, modules, readJson } from './by-module.ts';

/** A dependency level: the modules whose in-tree dependencies are all at lower depths. */
export interface DepthShard {
  depth: number;
  modules: { module: string; path: string }[];
  stage_kind: string;
}

/**
 * `by_dag_depth`: the modules of `root` (as `by_module` finds them) layered
 * by their dependencies on each other (package.json `dependencies`,
 * `devDependencies`, `peerDependencies` naming another module): depth 0 has
 * none, depth d depends on modules below d. One shard per depth, in order.
 * A dependency cycle is refused, naming it.
 */
export const byDagDepth = listPartitioner('by_dag_depth', moduleConfig, depthLevels);

function depthLevels(config: z.infer<typeof moduleConfig>): DepthShard[] {
  const mods = modules(config);
  const names = new Set(mods.map((m) => m.module));
  const deps = new Map(
    mods.map((m) => {
      const pkg = readJson(join(config.root, m.path, 'package.json')) ?? {};
      const declared = ['dependencies', 'devDependencies', 'peerDependencies'].flatMap((k) => Object.keys((pkg[k] as Record<string, unknown> | undefined) ?? {}));
      return [m.module, [...new Set(declared.filter((d) => names.has(d) && d !== m.module))].sort()];
    }),
  );
  const depth = new Map<string, number>();
  const visiting: string[] = [];
  const depthOf = (name: string): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (visiting.includes(name)) throw new PlanError('config.root', `dependency cycle: ${[...visiting.slice(visiting.indexOf(name)), name].join(' -> ')}`);
    visiting.push(name);
    const d = Math.max(-1, ...(deps.get(name) ?? []).map(depthOf)) + 1;
    visiting.pop();
    depth.set(name, d);
    return d;
  };
  const levels: DepthShard[] = [];
  for (const m of mods) {
    const d = depthOf(m.module);
    while (levels.length <= d) levels.push({ depth: levels.length, modules: [], stage_kind: config.stage_kind });
    (levels[d] as DepthShard).modules.push({ module: m.module, path: m.path });
  }
  return levels;
}
