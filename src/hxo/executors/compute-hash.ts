/**
 * Executors of the built-in `compute.hash` kind (the benchmark kind).
 *
 * `hash` runs `rounds` sha256 rounds: the first over the canonical msgpack of
 * the shard input, each next one over the previous 32-byte digest. Output:
 * `{digest}` (hex). native-bench/hotpath.c implements the same, byte for byte.
 */
import { canonicalView } from '../../core/canonical.ts';
import { sha256Into } from '../../kernel/sha256.ts';
import type { ShardContext } from '../plan/executor-loader.ts';

export interface HashInput {
  start: number;
  end: number;
}

/** Scratch for the digest: only its hex leaves the executor. */
const h = Buffer.alloc(32);

export const executors = {
  hash(input: unknown, config: { rounds?: number } = {}, shard?: ShardContext): { digest: string } {
    const rounds = config.rounds ?? 1;
    // The input's bytes as its address hashed them, when run as a shard: not encoded twice.
    sha256Into(shard ? shard.inputBytes() : canonicalView(input), h, 0);
    for (let r = 1; r < rounds; r++) sha256Into(h, h, 0);
    return { digest: h.toString('hex') };
  },
};
