/**
 * The job-kind registry (seed 002's Blueprint contract).
 *
 * A job kind names its allowed partitioners and executors and its safety
 * policy. Executors run in the worker pool, so a kind names the *module* that
 * exports them (`executors: {name: fn}`); partitioners run in the plan actor.
 * Built in: `compute.hash` and the six kinds of seed 002. Users register kinds from modules exporting
 * `{kind, partitioners, executors, safety_policy}` (see `loadJobKindModule`).
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { erased, type Partitioner } from '../partitioners/partitioner.ts';
import { byRange } from '../partitioners/by-range.ts';
import { byRouteMap } from '../partitioners/by-route-map.ts';
import { byAssetBucket } from '../partitioners/by-asset-bucket.ts';
import { byFileSize } from '../partitioners/by-filesize.ts';
import { byModule } from '../partitioners/by-module.ts';
import { byDagDepth } from '../partitioners/by-dag-depth.ts';
import { bySqlBatch } from '../partitioners/by-sql-batch.ts';
import { PlanError } from '../engine-errors.ts';
import { moduleFile } from './plan-modules.ts';
import { moduleTag, registerModuleTags, taggedModuleUrl } from './module-tags.ts';
import { canonicalView } from '../../core/canonical.ts';

export interface SafetyPolicy {
  allow_non_idempotent: boolean;
  require_dry_run: boolean;
}

export interface ExecutorSpec {
  /** Module (path or file URL) exporting `executors[name]`; loaded in the worker threads. */
  module: string;
  /**
   * What its outputs depend on besides input and config (memo entries,
   * resumed checkpoints and ended plans are reused only under the same one):
   * `builtin:<kind>/<executor>@<revision>`, or for a user's module
   * `version:<v>` (it exports `version`) or `sha256:<its files' tag>`.
   */
  identity: string;
  idempotent: boolean;
  /**
   * false for executors whose point is an effect elsewhere (warming a remote
   * cache): they run every time unless a stage asks for `memo: true`.
   */
  memoByDefault?: boolean;
  /** Validates the executor's part of the stage config (and keeps only that part). */
  config: z.ZodType<Record<string, unknown>>;
}

export interface JobKind {
  kind: string;
  description: string;
  partitioners: Record<string, Partitioner>;
  executors: Record<string, ExecutorSpec>;
  safety_policy: SafetyPolicy;
  default_slo_ms?: number;
}

const sourceExt = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/**
 * A built-in executor's identity. Bump its revision in the same change as
 * anything that could change what it outputs for the same input and config
 * (its code, the libraries it calls, the encoding of its output).
 */
function builtinIdentity(kind: string, executor: string, revision: number): string {
  return `builtin:${kind}/${executor}@${revision}`;
}
const builtin = (name: string): string => fileURLToPath(new URL(`../executors/${name}${sourceExt}`, import.meta.url));

const computeHash: JobKind = {
  kind: 'compute.hash',
  description: 'sha256 rounds over integer ranges: the benchmark kind',
  partitioners: { by_range: erased(byRange) },
  executors: {
    hash: {
      module: builtin('compute-hash'),
      identity: builtinIdentity('compute.hash', 'hash', 1),
      idempotent: true,
      config: z.object({ rounds: z.number().int().min(1).max(1_000_000).default(1) }),
    },
  },
  safety_policy: { allow_non_idempotent: false, require_dry_run: false },
};

const docsIndex: JobKind = {
  kind: 'docs.index',
  description: 'index documentation for search: one shard per route of a route map',
  partitioners: { by_route_map: erased(byRouteMap) },
  executors: {
    docs_index: {
      module: builtin('docs-index'),
      identity: builtinIdentity('docs.index', 'docs_index', 1),
      idempotent: true,
      config: z.object({ root: z.string().min(1) }),
    },
  },
  safety_policy: { allow_non_idempotent: false, require_dry_run: false },
  default_slo_ms: 30_000,
};

const deployPack: JobKind = {
  kind: 'deploy.pack',
  description: 'pack backend files for deployment: compressed, content-addressed chunks in the CAS',
  partitioners: {
    by_filesize: erased(byFileSize),
    by_module: erased(byModule),
  },
  executors: {
    pack_backend: { module: builtin('pack'), identity: builtinIdentity('deploy.pack', 'pack_backend', 1), idempotent: true, config: z.object({ root: z.string().min(1) }) },
  },
  safety_policy: { allow_non_idempotent: false, require_dry_run: false },
  default_slo_ms: 120_000,
};

const primeConfig = z.object({ base_url: z.url({ protocol: /^https?$/ }), request_timeout_ms: z.number().int().positive().default(10_000) });

const deployPrime: JobKind = {
  kind: 'deploy.prime',
  description: "prime a service's registry and caches for startup, module by module",
  partitioners: {
    by_module: erased(byModule),
    by_dag_depth: erased(byDagDepth),
  },
  executors: {
    warm_registry: { module: builtin('prime'), identity: builtinIdentity('deploy.prime', 'warm_registry', 1), idempotent: true, memoByDefault: false, config: primeConfig },
    prime_caches: { module: builtin('prime'), identity: builtinIdentity('deploy.prime', 'prime_caches', 1), idempotent: true, memoByDefault: false, config: primeConfig },
  },
  safety_policy: { allow_non_idempotent: false, require_dry_run: false },
  default_slo_ms: 45_000,
};

const deployMigrate: JobKind = {
  kind: 'deploy.migrate',
  description: 'apply a database migration in batches (PostgreSQL); dry run first',
  partitioners: { by_sql_batch: erased(bySqlBatch) },
  executors: {
    sql_migrate: {
      module: builtin('migrate'),
      identity: builtinIdentity('deploy.migrate', 'sql_migrate', 1),
      idempotent: false,
      config: z.object({
        table: z.string().min(1),
        key: z.string().min(1).default('id'),
        set: z.string().min(1),
        database_url: z.string().optional(),
        dry_run: z.boolean(),
      }),
    },
  },
  safety_policy: { allow_non_idempotent: true, require_dry_run: true },
  default_slo_ms: 30_000,
};

/** `assets.index` and `assets.stage` share partitioners and their executor (seed 002). */
function assetsKind(kind: string, description: string): JobKind {
  return {
    kind,
    description,
    partitioners: {
      by_asset_bucket: erased(byAssetBucket),
      by_filesize: erased(byFileSize),
    },
    executors: {
      index_assets: { module: builtin('assets'), identity: builtinIdentity(kind, 'index_assets', 1), idempotent: true, config: z.object({ root: z.string().min(1) }) },
    },
    safety_policy: { allow_non_idempotent: false, require_dry_run: false },
    default_slo_ms: 60_000,
  };
}

const assetsIndex = assetsKind('assets.index', 'index assets for search and retrieval');
const assetsStage = assetsKind('assets.stage', 'stage assets for deployment: their bytes into the CAS, with an index');

export class JobKindRegistry {
  private readonly kinds = new Map<string, JobKind>();

  constructor(kinds: JobKind[] = [computeHash, deployPack, deployPrime, deployMigrate, docsIndex, assetsIndex, assetsStage]) {
    for (const k of kinds) this.register(k);
  }

  register(kind: JobKind): void {
    this.kinds.set(kind.kind, kind);
  }

  get(kind: string): JobKind | undefined {
    return this.kinds.get(kind);
  }

  names(): string[] {
    return [...this.kinds.keys()].sort();
  }

  /**
   * Loads a user module, by the content of its files (an edited module is
   * loaded afresh, module-tags.ts), and registers the kind it exports.
   */
  async loadModule(modulePath: string, baseDir: string): Promise<JobKind> {
    const file = moduleFile(modulePath, baseDir);
    let mod: Record<string, unknown>;
    let url: string;
    let tag: string;
    try {
      ({ tag } = moduleTag(file));
      url = taggedModuleUrl(file, tag);
      registerModuleTags();
      mod = (await import(url)) as Record<string, unknown>;
    } catch (err) {
      throw new PlanError('modules', `cannot load job-kind module ${file}: ${(err as Error).message.split('\n')[0]}`);
    }
    // Its parts by name, or one `defineJobKind({...})` as its default export.
    const exported = mod.kind === undefined && typeof mod.default === 'object' && mod.default !== null ? (mod.default as Record<string, unknown>) : mod;
    const replaced = typeof exported.kind === 'string' ? this.kinds.get(exported.kind) : undefined;
    if (replaced && isBuiltin(replaced)) {
      throw new PlanError('modules', `${file} exports the kind "${replaced.kind}", which is built in: a module cannot replace it (every plan on the node would run its code); name yours differently, e.g. "team.${replaced.kind.split('.').pop() ?? 'job'}"`);
    }
    const kind = userKindSchema.safeParse(exported);
    if (!kind.success) {
      const issue = kind.error.issues[0];
      throw new PlanError('modules', `${file} does not export a job kind: ${issue?.path.join('.') || 'module'}: ${issue?.message}`);
    }
    const k = kind.data;
    const definition: JobKind = {
      kind: k.kind,
      description: k.description ?? `user job kind from ${file}`,
      partitioners: Object.fromEntries(Object.entries(k.partitioners).map(([name, p]) => [name, userPartitioner(name, p)])),
      executors: Object.fromEntries(
        Object.keys(k.executors).map((name) => [
          name,
          { module: url, identity: k.version !== undefined ? `version:${k.version}` : `sha256:${tag}`, idempotent: !(k.non_idempotent_executors ?? []).includes(name), config: z.object({}).loose() },
        ]),
      ),
      safety_policy: { allow_non_idempotent: false, require_dry_run: false, ...k.safety_policy },
      ...(k.default_slo_ms ? { default_slo_ms: k.default_slo_ms } : {}),
    };
    this.register(definition);
    return definition;
  }
}

type UserPartitioner = ((config: Record<string, unknown>) => Iterable<unknown>) | {
  count?: (config: Record<string, unknown>) => number;
  shards: (config: Record<string, unknown>) => Iterable<unknown>;
  at?: (config: Record<string, unknown>, i: number) => unknown;
  split?: (config: Record<string, unknown>, input: unknown, factor: number) => unknown[];
};

const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { error: 'expected a function' });
const userKindSchema = z.object({
  kind: z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/, { error: 'expected a dotted name like team.job' }),
  description: z.string().optional(),
  /** The author's promise: outputs change only when this does (else the module's files are its identity). */
  version: z.union([z.string().min(1).max(200), z.number()]).optional(),
  partitioners: z.record(z.string(), z.union([fn, z.object({ count: fn.optional(), shards: fn, at: fn.optional(), split: fn.optional() })])),
  executors: z.record(z.string(), fn),
  safety_policy: z.object({ allow_non_idempotent: z.boolean(), require_dry_run: z.boolean() }).partial().optional(),
  non_idempotent_executors: z.array(z.string()).optional(),
  default_slo_ms: z.number().int().positive().optional(),
});

/**
 * A user partitioner as a Partitioner: without `count`, counting walks the
 * generator once. With `at` and `split`, auto-tuning may split its shards.
 */
function userPartitioner(name: string, p: unknown): Partitioner {
  const user = p as UserPartitioner;
  const shards = typeof user === 'function' ? user : user.shards;
  const count = typeof user === 'function' ? undefined : user.count;
  const random = typeof user === 'function' ? {} : { ...(user.at ? { at: user.at } : {}), ...(user.split ? { split: user.split } : {}) };
  return {
    ...random,
    name,
    config: z.record(z.string(), z.unknown()) as z.ZodType<Record<string, unknown>>,
    count: (config) => {
      if (count) return count(config);
      let n = 0;
      for (const _ of shards(config)) n++;
      return n;
    },
    shards,
    // A user's partitioner may read more than its config (files, a database): the inputs it makes are
    // part of the plan's identity, so a plan whose inputs changed is a new plan, never a resumed old one.
    inputsDigest: (config) => {
      const h = createHash('sha256');
      for (const input of shards(config)) h.update(canonicalView(input));
      return h.digest('hex');
    },
  };
}

/** A kind of xyn's own (its executors' identities say so). */
function isBuiltin(kind: JobKind): boolean {
  return Object.values(kind.executors).some((e) => e.identity.startsWith('builtin:'));
}
