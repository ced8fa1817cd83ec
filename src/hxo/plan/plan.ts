/**
 * The plan: seed 001's plan structure, in JSON or YAML, validated in two steps.
 *
 * 1. Shape (zod): fields, types, ranges; unknown fields are refused.
 * 2. Contract (the job-kind registry, seed 002): the kind exists, the
 *    partitioner and executor are allowed for it, the safety policy holds,
 *    their configs are valid, and the shard count is within `max_shards`
 *    and HXO_MAX_SHARDS.
 * Every refusal is a PlanError naming the field (`stages[1].partitioner`) and
 * the rule; nothing is written before a plan passes both steps.
 */
import { readFileSync } from 'node:fs';
import { hash } from 'node:crypto';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { canonicalEncode } from '../../core/canonical.ts';
import { issuePath } from '../../core/errors.ts';
import { deepFieldName, nestedTooDeep, tooDeepRule } from '../../core/nesting.ts';
import { PlanError } from '../engine-errors.ts';
import type { JobKind, JobKindRegistry } from './job-kinds.ts';
import { MODULE_SPECIFIER_RULE, isModuleFileSpecifier } from './plan-modules.ts';
import { workerPartitionerName } from '../partitioners/by-range.ts';

/** Stage numbers are 15 bits in checkpoint keys (the 16th marks sub-shards of split shards). */
const MAX_STAGES = 1024;
const id = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, { error: 'expected 1-128 letters, digits, _ . -' });
const positiveInt = z.number().int().positive();

export const stageSchema = z.strictObject({
  id,
  kind: z.string().min(1),
  partitioner: z.string().min(1).optional(),
  executor: z.string().min(1).optional(),
  scheduler: z.literal('fair_round_robin', { error: 'the only scheduler is "fair_round_robin"' }).optional(),
  slo_ms: positiveInt.optional(),
  /** Per-shard timeout; HXO_SHARD_TIMEOUT_MS when absent. */
  timeout_ms: positiveInt.optional(),
  /** Retries after a failed attempt (so `retries + 1` attempts in all). */
  retries: z.number().int().min(0).max(100).optional(),
  /** First retry waits this long; each next one twice as long. */
  backoff_ms: z.number().int().min(0).max(3_600_000).optional(),
  memo: z.boolean().optional(),
  non_idempotent: z.boolean().optional(),
  config: z.record(z.string(), z.unknown()).optional(),
});

export const planSchema = z.strictObject({
  name: id,
  stages: z
    .array(stageSchema)
    .min(1, { error: 'a plan needs at least one stage' })
    .max(MAX_STAGES, { error: `a plan has at most ${MAX_STAGES} stages` }),
  constraints: z
    .strictObject({
      max_shards: positiveInt.optional(),
      timebox_ms: positiveInt.optional(),
    })
    .optional(),
  /** Job-kind modules to register (paths relative to the plan file, or file: URLs: plan-modules.ts). */
  modules: z.array(z.string().min(1).max(4096).refine(isModuleFileSpecifier, { error: MODULE_SPECIFIER_RULE })).optional(),
  dry_run: z.boolean().optional(),
});

export type PlanInput = z.infer<typeof planSchema>;

/** A stage after validation: defaults filled, partitioner and executor resolved. */
export interface ResolvedStage {
  index: number;
  id: string;
  kind: string;
  partitioner: string;
  /** Set when shard workers make this stage's inputs from indexes (see partitioners/worker-partitioners.ts). */
  workerPartitioner?: string;
  executor: string;
  executorModule: string;
  slo_ms: number;
  timeout_ms: number;
  retries: number;
  backoff_ms: number;
  memo: boolean;
  config: Record<string, unknown>;
  /** What the executor's outputs depend on besides input and config (job-kinds.ts `ExecutorSpec.identity`). */
  executorIdentity: string;
  /**
   * sha256 of the executor's identity and the config it reads: an output is
   * reused (memo) only for the same address under the same salt.
   */
  memoSalt: string;
  shardCount: number;
  /** Auto-tuning may split its shards: its partitioner can (`at` and `split`) and its work is idempotent. */
  splittable: boolean;
  /** What its inputs are beyond its config (its partitioner's `inputsDigest`, or what its count was made from), for partitioners that read more than their config. */
  inputsDigest?: string;
}

export interface ResolvedPlan {
  name: string;
  /**
   * sha256 of the canonical plan as submitted, its executors' identities and
   * the digests of the inputs its file partitioners found: the same plan over
   * the same code and files, the same digest (and plan id).
   */
  digest: string;
  /** Per stage, what besides the plan source its digest covers. */
  facts: StageFacts[];
  stages: ResolvedStage[];
  totalShards: number;
  max_shards: number;
  timebox_ms?: number;
  dry_run: boolean;
  modules: string[];
  source: PlanInput;
}

/** What a stage's results depend on besides the plan source: executor code, and inputs found outside the plan. */
export interface StageFacts {
  executor: string;
  inputs?: string;
}

export interface Limits {
  HXO_MAX_SHARDS: number;
  HXO_DEFAULT_SLO_MS: number;
  HXO_SHARD_TIMEOUT_MS: number;
}

/** Reads a plan file (YAML or JSON by extension; YAML otherwise). */
export function readPlanFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PlanError('file', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parsePlanText(text, extname(path) === '.json' ? 'json' : 'yaml');
}

export function parsePlanText(text: string, format: 'json' | 'yaml'): unknown {
  try {
    return format === 'json' ? (JSON.parse(text) as unknown) : (parseYaml(text, { uniqueKeys: true }) as unknown);
  } catch (err) {
    const first = (err as Error).message.split('\n')[0] ?? 'parse error';
    // The YAML parser recurses per level: a file nested past MAX_NESTING many times over stops it first.
    if (first.startsWith('Maximum call stack size exceeded')) throw new PlanError('file', `${first.slice(first.indexOf(' at ') + 4).replace(/:$/, '')}: ${tooDeepRule()}`);
    throw new PlanError('file', `not valid ${format.toUpperCase()}: ${first}`);
  }
}

/** Validates the plan's shape; the first problem names its field. */
export function checkPlanShape(raw: unknown): PlanInput {
  // Before anything walks it recursively (zod, the canonical encoding its digest hashes).
  const deep = nestedTooDeep(raw);
  if (deep) {
    throw new PlanError(deepFieldName('', deep), tooDeepRule());
  }
  const parsed = planSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0] as z.core.$ZodIssue;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] as string;
    throw new PlanError(fieldPath([...issue.path, key]), `unknown field "${key}"`);
  }
  throw new PlanError(fieldPath(issue.path), issue.message);
}

/**
 * Resolves a shaped plan against the registry and limits (seed 002 validation
 * rules). A stage's `config.root` (the directory its partitioner and executor
 * read) is resolved against `baseDir`, the plan file's directory.
 */
export async function resolvePlan(plan: PlanInput, registry: JobKindRegistry, limits: Limits, baseDir: string, capabilities?: ReadonlySet<string>): Promise<ResolvedPlan> {
  const seen = new Set<string>();
  const stages: ResolvedStage[] = [];
  for (const [index, stage] of plan.stages.entries()) {
    const at = `stages[${index}]`;
    if (seen.has(stage.id)) throw new PlanError(`${at}.id`, `stage id "${stage.id}" is used twice`);
    seen.add(stage.id);
    const kind = registry.get(stage.kind);
    if (!kind) throw new PlanError(`${at}.kind`, `unknown job kind "${stage.kind}"; known: ${registry.names().join(', ')}`);
    const partitionerName = stage.partitioner ?? (Object.keys(kind.partitioners)[0] as string);
    const partitioner = kind.partitioners[partitionerName];
    if (!partitioner) {
      throw new PlanError(`${at}.partitioner`, `"${partitionerName}" is not allowed for ${kind.kind}; allowed: ${Object.keys(kind.partitioners).join(', ')}`);
    }
    const executorName = stage.executor ?? (Object.keys(kind.executors)[0] as string);
    const executor = kind.executors[executorName];
    if (!executor) {
      throw new PlanError(`${at}.executor`, `"${executorName}" is not allowed for ${kind.kind}; allowed: ${Object.keys(kind.executors).join(', ')}`);
    }
    checkSafety(kind, stage, executor.idempotent, at, capabilities);
    // Partitioners whose inputs carry seed 002's `stage_kind` read it from here.
    // Executors that behave differently in a dry run read `dry_run` from here.
    const stageConfig = { ...stage.config, stage_kind: kind.kind, dry_run: plan.dry_run ?? false, ...(typeof stage.config?.root === 'string' ? { root: resolve(baseDir, stage.config.root) } : {}) };
    const executorConfig = validConfig(executor.config, stageConfig, at);
    const executorConfigDigest = hash('sha256', canonicalEncode(executorConfig), 'hex');
    const config = { ...stageConfig, ...validConfig(partitioner.config, stageConfig, at, ` (partitioner ${partitioner.name})`), ...executorConfig };
    const workerPartitioner = workerPartitionerName(partitioner);
    stages.push({
      index,
      id: stage.id,
      kind: kind.kind,
      partitioner: partitionerName,
      ...(workerPartitioner ? { workerPartitioner } : {}),
      executor: executorName,
      executorModule: executor.module,
      slo_ms: stage.slo_ms ?? kind.default_slo_ms ?? limits.HXO_DEFAULT_SLO_MS,
      timeout_ms: stage.timeout_ms ?? limits.HXO_SHARD_TIMEOUT_MS,
      retries: executor.idempotent ? (stage.retries ?? 2) : nonIdempotentRetries(stage.retries, at),
      backoff_ms: stage.backoff_ms ?? 100,
      memo: (stage.memo ?? executor.memoByDefault ?? true) && executor.idempotent,
      config,
      executorIdentity: executor.identity,
      memoSalt: hash('sha256', canonicalEncode({ config_digest: executorConfigDigest, executor_identity: executor.identity }), 'hex'),
      ...(await countShards(partitioner, config, at)),
      // A running shard is killed to be split: only work that can safely start over.
      splittable: Boolean(partitioner.at && partitioner.split) && executor.idempotent && !stage.non_idempotent,
    });
  }
  const totalShards = stages.reduce((n, s) => n + s.shardCount, 0);
  const max = Math.min(plan.constraints?.max_shards ?? Number.POSITIVE_INFINITY, limits.HXO_MAX_SHARDS);
  if (totalShards > max) {
    const field = plan.constraints?.max_shards !== undefined && plan.constraints.max_shards <= limits.HXO_MAX_SHARDS ? 'constraints.max_shards' : 'HXO_MAX_SHARDS';
    throw new PlanError(field, `the plan has ${totalShards} shards, over the limit of ${max}`);
  }
  const facts = stages.map((s) => ({ executor: s.executorIdentity, ...(s.inputsDigest ? { inputs: s.inputsDigest } : {}) }));
  return {
    name: plan.name,
    digest: planDigest(plan, facts),
    facts,
    stages,
    totalShards,
    max_shards: max,
    ...(plan.constraints?.timebox_ms ? { timebox_ms: plan.constraints.timebox_ms } : {}),
    dry_run: plan.dry_run ?? false,
    modules: plan.modules ?? [],
    source: plan,
  };
}

export function planDigest(plan: PlanInput, facts: StageFacts[]): string {
  return hash('sha256', canonicalEncode({ plan, stages: facts }), 'hex');
}

/** A stable plan id (UUID-shaped) for a plan digest in a data dir: re-running resumes. */
export function planIdFor(digest: string): string {
  const h = hash('sha256', `xyn-plan-id\n${digest}`, 'hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function checkSafety(kind: JobKind, stage: PlanInput['stages'][number], idempotent: boolean, at: string, capabilities?: ReadonlySet<string>): void {
  if (idempotent && !stage.non_idempotent) return;
  if (!kind.safety_policy.allow_non_idempotent) {
    throw new PlanError(`${at}.executor`, `${kind.kind} does not allow non-idempotent work (safety policy)`);
  }
  if (!stage.non_idempotent) {
    throw new PlanError(`${at}.non_idempotent`, `${kind.kind} is non-idempotent: the stage must say non_idempotent: true`);
  }
  if (capabilities && !capabilities.has('hxo:force-merge')) {
    throw new PlanError(`${at}.non_idempotent`, `non-idempotent work needs the hxo:force-merge capability`);
  }
}

/** A non-idempotent shard is never retried blindly: its failure needs a person (or a replay). */
function nonIdempotentRetries(retries: number | undefined, at: string): number {
  if (retries) throw new PlanError(`${at}.retries`, 'a non-idempotent stage is never retried blindly: retries must be 0');
  return 0;
}

/** The partitioner's count; what it throws (a missing file, a bad config) is a refusal naming the stage. */
/** A stage's shard count, and what its inputs are beyond its config (a walk of files, rows in a database), for the plan's digest. */
async function countShards(partitioner: JobKind['partitioners'][string], config: Record<string, unknown>, at: string): Promise<{ shardCount: number; inputsDigest?: string }> {
  try {
    const counted = await partitioner.count(config);
    if (typeof counted !== 'number') return { shardCount: counted.shards, inputsDigest: counted.inputs };
    return { shardCount: counted, ...(partitioner.inputsDigest ? { inputsDigest: partitioner.inputsDigest(config) } : {}) };
  } catch (err) {
    if (err instanceof PlanError) throw new PlanError(`${at}.${err.field}`, err.rule);
    throw new PlanError(`${at}.config`, `partitioner ${partitioner.name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The part of a stage's config that `schema` reads, validated and defaulted; `whose` ends the message. */
function validConfig(schema: z.ZodType<Record<string, unknown>>, config: Record<string, unknown>, at: string, whose = ''): Record<string, unknown> {
  const parsed = schema.safeParse(config);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0] as z.core.$ZodIssue;
  throw new PlanError(issuePath(`${at}.config`, issue.path), `${issue.message}${whose}`);
}

function fieldPath(path: readonly PropertyKey[]): string {
  return issuePath('', path) || 'plan';
}
