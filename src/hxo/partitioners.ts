/**
 * Partitioners split a stage into shards lazily: `shards(config)` is a
 * generator, so a million-shard plan never holds its shard specs in memory,
 * and `count(config)` says how many there will be without making them.
 * A partitioner is deterministic: the same config always yields the same
 * shards in the same order (leaf order, and so the root, depends on it).
 *
 * A built-in partitioner whose shard i can be computed on its own (`at`) is
 * listed in `workerPartitioners`: a shard worker then makes the inputs of a
 * batch itself from their indexes, and batches carry no inputs at all.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PlanError } from './engine-errors.ts';
import { rangeAt, splitRange } from './worker-partitioners.ts';

export { splitRange } from './worker-partitioners.ts';
import { canonicalEncode } from '../core/canonical.ts';
import { listFiles, topDirectories, type FileEntry } from './file-tree.ts';
import { databaseUrl, rowCount } from './sql.ts';

/**
 * A count made from outside the config (the rows of a database table): the
 * shards, and a digest of what they were counted from — part of the plan's
 * digest, so a table that changed is a new plan, never the old one's report.
 */
export interface Counted {
  shards: number;
  inputs: string;
}

export interface Partitioner<C = Record<string, unknown>> {
  readonly name: string;
  /** Validates (and defaults) the stage config this partitioner reads. */
  readonly config: z.ZodType<C>;
  /** May be async (a row count from a database); the plan is resolved once it is known. */
  count(config: C): number | Counted | Promise<number | Counted>;
  /** The shards' inputs, `count` of them: the count the plan was resolved with (a partitioner that counts outside its config makes its shards from it). */
  shards(config: C, count: number): Iterable<unknown>;
  /** Random access: the input of shard i (0 ≤ i < count), equal to the i-th of `shards`. */
  at?(config: C, i: number): unknown;
  /**
   * Auto-tuning (with `at`): a shard's input cut into at most `factor`
   * sub-inputs that cover it exactly, in order; fewer than 2 when it cannot
   * be cut. Deterministic, like everything a partitioner does: a journaled
   * split is re-made from it on resume.
   */
  split?(config: C, input: unknown, factor: number): unknown[];
  /**
   * For a partitioner whose shards depend on more than its config (a walk of
   * a file tree): a digest of the shards it found. It is part of the plan's
   * digest, so a plan over files that changed is a new plan: a resumed run
   * or an ended report never stands for inputs that are no longer there.
   */
  inputsDigest?(config: C): string;
}

/**
 * A partitioner whose shards are a list it makes from the config (a walk of
 * a file tree): made once, when the plan is resolved and the shards counted,
 * and kept for shards() — the walk is not repeated, and the shards are
 * exactly the ones counted.
 */
function listPartitioner<C extends object>(name: string, config: z.ZodType<C>, make: (config: C) => unknown[]): Partitioner<C> {
  const made = new WeakMap<object, unknown[]>();
  const list = (c: C): unknown[] => {
    let shards = made.get(c);
    if (!shards) made.set(c, (shards = make(c)));
    return shards;
  };
  return { name, config, count: (c) => list(c).length, shards: (c) => list(c), inputsDigest: (c) => createHash('sha256').update(canonicalEncode(list(c))).digest('hex') };
}

const byRangeConfig = z.object({
  total: z.number().int().min(0),
  per_shard: z.number().int().min(1).default(1),
});

/** `by_range`: integers [0, total) in shards of `per_shard`: input `{start, end}`. */
export const byRange: Partitioner<z.infer<typeof byRangeConfig>> = {
  name: 'by_range',
  config: byRangeConfig,
  count: ({ total, per_shard }) => Math.ceil(total / per_shard),
  *shards({ total, per_shard }) {
    for (let start = 0; start < total; start += per_shard) {
      // Keys in sorted order, as canonical msgpack writes them.
      yield { end: Math.min(start + per_shard, total), start };
    }
  },
  at: rangeAt,
  split: (_config, input, factor) => splitRange(input as { start: number; end: number }, factor),
};

/**
 * A partitioner as the registry and the engine hold it, its config type
 * erased: the stage's config is checked by the partitioner's own `config`
 * schema when the plan is resolved.
 */
export function erased<C>(p: Partitioner<C>): Partitioner {
  return p as unknown as Partitioner;
}

/** The name under which a shard worker finds this partitioner (worker-partitioners.ts), if it can rebuild its inputs. */
export function workerPartitionerName(p: Partitioner): string | undefined {
  return p === erased(byRange) ? 'by_range' : undefined;
}

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

const assetBucketConfig = z.object({ root: z.string().min(1), stage_kind: z.string().default('') });

/** An assets shard: a bucket's files (or a size partition's, under `by_filesize`). */
export interface FilesShard {
  bucket: string;
  files: FileEntry[];
  stage_kind: string;
}

/**
 * `by_asset_bucket`: one shard per asset category — each top-level directory
 * of `root` that holds files — with the files under it.
 */
export const byAssetBucket = listPartitioner('by_asset_bucket', assetBucketConfig, assetBuckets);

function assetBuckets({ root, stage_kind }: z.infer<typeof assetBucketConfig>): FilesShard[] {
  return topDirectories(root)
    .map((bucket) => ({ bucket, files: listFiles(root, bucket), stage_kind }))
    .filter((s) => s.files.length > 0);
}

const fileSizeConfig = z.object({
  root: z.string().min(1),
  chunk_size_mb: z.number().positive().max(4096).default(8),
  stage_kind: z.string().default(''),
});

/** A size partition: seed 002's `deploy.pack` input, with the files it covers. */
export interface FileRangeShard extends FilesShard {
  partition_id: number;
  file_range_start: number;
  file_range_end: number;
  chunk_size_mb: number;
}

/**
 * `by_filesize`: the files under `root` in path order, cut into consecutive
 * ranges of at most `chunk_size_mb` MiB each (a bigger file is a range of
 * its own): files [file_range_start, file_range_end) per shard.
 */
export const byFileSize = listPartitioner('by_filesize', fileSizeConfig, fileRanges);

function fileRanges({ root, chunk_size_mb, stage_kind }: z.infer<typeof fileSizeConfig>): FileRangeShard[] {
  const files = listFiles(root);
  const limit = chunk_size_mb * 1024 * 1024;
  const out: FileRangeShard[] = [];
  let start = 0;
  let bytes = 0;
  const cut = (end: number): void => {
    const id = out.length;
    out.push({ bucket: `partition-${id}`, chunk_size_mb, file_range_end: end, file_range_start: start, files: files.slice(start, end), partition_id: id, stage_kind });
    [start, bytes] = [end, 0];
  };
  files.forEach((f, i) => {
    if (i > start && bytes + f.size > limit) cut(i);
    bytes += f.size;
  });
  if (start < files.length) cut(files.length);
  return out;
}

const moduleConfig = z.object({ root: z.string().min(1), stage_kind: z.string().default('') });

/** A module of the tree: its name, its directory (relative to root), its files. */
export interface ModuleShard {
  module: string;
  path: string;
  partition_id: number;
  files: FileEntry[];
  stage_kind: string;
}

/**
 * `by_module`: one shard per module — the workspaces of `root/package.json`
 * (`"workspaces": ["packages/*", "tools/cli"]`, or `{packages: [...]}`) when
 * it has them, else each top-level directory. A module is named by its own
 * package.json `name`, else by its path.
 */
export const byModule = listPartitioner('by_module', moduleConfig, modules);

function modules({ root, stage_kind }: z.infer<typeof moduleConfig>): ModuleShard[] {
  const dirs = workspaceDirs(root) ?? topDirectories(root);
  return dirs
    .map((path) => ({ path, files: listFiles(root, path) }))
    .filter((m) => m.files.length > 0)
    .map(({ path, files }, partition_id) => ({ files, module: packageName(join(root, path)) ?? path, partition_id, path, stage_kind }));
}

/** The workspace directories of root/package.json, or undefined when it declares none. */
function workspaceDirs(root: string): string[] | undefined {
  const pkg = readJson(join(root, 'package.json'));
  const declared = Array.isArray(pkg?.workspaces) ? pkg.workspaces : (pkg?.workspaces as { packages?: unknown } | undefined)?.packages;
  if (!Array.isArray(declared)) return undefined;
  const dirs = new Set<string>();
  for (const pattern of declared) {
    if (typeof pattern !== 'string') continue;
    const clean = pattern.replace(/\/+$/, '');
    // `dir/*` is every directory in dir; anything else is one directory.
    if (clean.endsWith('/*')) {
      const parent = clean.slice(0, -2);
      if (existsSync(join(root, parent))) for (const d of topDirectories(join(root, parent))) dirs.add(`${parent}/${d}`);
    } else if (existsSync(join(root, clean))) dirs.add(clean);
  }
  return [...dirs].sort();
}

function packageName(dir: string): string | undefined {
  const name = readJson(join(dir, 'package.json'))?.name;
  return typeof name === 'string' && name.length > 0 ? name : undefined;
}

function readJson(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch (err) {
    throw new PlanError('config.root', `${path} is not valid JSON: ${(err as Error).message.split('\n')[0]}`);
  }
}

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

const sqlBatchConfig = z.object({
  table: z.string().min(1),
  batch_size: z.number().int().positive().default(1000),
  database_url: z.string().optional(),
  stage_kind: z.string().default(''),
});

/** A batch of rows: seed 002's `deploy.migrate` input. */
export interface SqlBatchShard {
  batch_id: number;
  limit: number;
  offset: number;
  stage_kind: string;
}

/**
 * `by_sql_batch`: the rows of `table` (counted in the database when the plan
 * is resolved) in batches of `batch_size`: `{batch_id, offset, limit}`. The
 * row count is part of the plan's identity: a table with other rows than
 * when a plan over it ran is a new plan (its rows migrated anew), never the
 * old plan's report.
 */
export const bySqlBatch: Partitioner<z.infer<typeof sqlBatchConfig>> = {
  name: 'by_sql_batch',
  config: sqlBatchConfig,
  count: async (config) => {
    const rows = await rowCount(databaseUrl(config), config.table);
    return { shards: Math.ceil(rows / config.batch_size), inputs: `rows:${rows}` };
  },
  *shards(config, count) {
    for (let batch_id = 0; batch_id < count; batch_id++) {
      yield { batch_id, limit: config.batch_size, offset: batch_id * config.batch_size, stage_kind: config.stage_kind } satisfies SqlBatchShard;
    }
  },
};
