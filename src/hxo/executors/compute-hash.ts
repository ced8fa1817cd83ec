/**
 * Executors of the built-in `compute.hash` kind (the benchmark kind).
 *
 * `hash` runs `rounds` sha256 rounds: the first over the canonical msgpack of
 * the shard input, each next one over the previous 32-byte digest. Output:
 * `{digest}` (hex). native-bench/hotpath.c implements the same, byte for byte.
 */
import { hash as sha256 } from 'node:crypto';
import { canonicalView } from '../../kernel/codec.ts';

export interface HashInput {
  start: number;
  end: number;
}

export const executors = {
  hash(input: unknown, config: { rounds?: number } = {}): { digest: string } {
    const rounds = config.rounds ?? 1;
    let h = sha256('sha256', canonicalView(input), 'buffer');
    for (let r = 1; r < rounds; r++) h = sha256('sha256', h, 'buffer');
    return { digest: h.toString('hex') };
  },
};
