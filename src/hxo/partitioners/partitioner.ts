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
import type { z } from 'zod';
import { canonicalEncode } from '../../core/canonical.ts';

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
export function listPartitioner<C extends object>(name: string, config: z.ZodType<C>, make: (config: C) => unknown[]): Partitioner<C> {
  const made = new WeakMap<object, unknown[]>();
  const list = (c: C): unknown[] => {
    let shards = made.get(c);
    if (!shards) made.set(c, (shards = make(c)));
    return shards;
  };
  return { name, config, count: (c) => list(c).length, shards: (c) => list(c), inputsDigest: (c) => createHash('sha256').update(canonicalEncode(list(c))).digest('hex') };
}

/**
 * A partitioner as the registry and the engine hold it, its config type
 * erased: the stage's config is checked by the partitioner's own `config`
 * schema when the plan is resolved.
 */
export function erased<C>(p: Partitioner<C>): Partitioner {
  return p as unknown as Partitioner;
}
