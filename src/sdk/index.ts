/**
 * `xyn`: what a job kind's module needs, for users' code (package.json
 * `exports`). A module exports a kind's parts by name, or one
 * `defineJobKind({...})` as its default export; either way its executors run
 * in the node's pool threads, its partitioners on the plan's thread.
 *
 *   import { defineJobKind, NonRetryableError } from 'xyn';
 *
 *   export default defineJobKind({
 *     kind: 'shop.price',
 *     partitioners: { by_count: (config: { count: number }) => Array.from({ length: config.count }, (_, n) => ({ n })) },
 *     executors: {
 *       price: (input: { n: number }) => {
 *         if (input.n < 0) throw new NonRetryableError(`item ${input.n} has no price`, 'NO_PRICE');
 *         return { n: input.n, cents: input.n * 100 };
 *       },
 *     },
 *   });
 */
import type { ShardContext } from '../hxo/plan/executor-loader.ts';

export { XynError, NonRetryableError, ValidationError, isRetryable } from '../core/errors.ts';
export { ModuleChangedError } from '../hxo/plan/module-tags.ts';
export { PlanError, ShardTimeoutError } from '../hxo/engine-errors.ts';
export type { PlanReport, PlanStatus } from '../hxo/report.ts';
export type { ShardContext };

/** Shards of a stage from its config: all of them in order, or with their count and random access (which lets the node split a slow shard). */
export type Partitioner<Config, Input> =
  | ((config: Config) => Iterable<Input>)
  | {
      shards(config: Config): Iterable<Input>;
      /** How many shards `shards` yields (else it is counted by iterating). */
      count?(config: Config): number | Promise<number>;
      /** The i-th shard, as `shards` yields it. */
      at?(config: Config, i: number): Input;
      /** A slow shard's input as `factor` smaller ones, which together do what it did. */
      split?(config: Config, input: Input, factor: number): Input[];
    };

/** One shard: its input (and the stage's config, and the shard's context) in, its output out; throw to fail it (NonRetryableError: no retry). */
export type Executor<Config, Input, Output> = (input: Input, config: Config, shard: ShardContext) => Output | Promise<Output>;

export interface JobKindDefinition<Config = Record<string, unknown>, Input = unknown, Output = unknown> {
  /** A dotted name, `team.job`. */
  kind: string;
  description?: string;
  /** Your promise that outputs change only when this does; without it, the module's files are its identity (memoization). */
  version?: string | number;
  partitioners: Record<string, Partitioner<Config, Input>>;
  executors: Record<string, Executor<Config, Input, Output>>;
  safety_policy?: { allow_non_idempotent?: boolean; require_dry_run?: boolean };
  /** Executors that must never run twice for a shard: never retried, and only with the plan's consent. */
  non_idempotent_executors?: string[];
  default_slo_ms?: number;
}

/** A job kind, typed: returns what it is given, for a module's default export. */
export function defineJobKind<Config = Record<string, unknown>, Input = unknown, Output = unknown>(definition: JobKindDefinition<Config, Input, Output>): JobKindDefinition<Config, Input, Output> {
  return definition;
}
