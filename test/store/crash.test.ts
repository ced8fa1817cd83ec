/**
 * SIGKILL durability: a child process writes batches as fast as it can and
 * acknowledges each one only after `store.write` resolved; we kill it with
 * SIGKILL at a random moment, 20 times, and after every kill check that
 * - every acknowledged batch is on disk, whole, with its CAS blob readable;
 * - every batch on disk at all is whole (LMDB commits are atomic).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../kernel/helpers.ts';
import { Cas, sha256Hex } from '../../src/store/cas.ts';
import { openStore } from '../../src/store/env.ts';
import { KEYS_PER_BATCH, batchBlob, batchValue } from '../fixtures/store-writer.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixturePath = path.join(repoRoot, 'test/fixtures/store-writer.ts');

const ROUNDS = 20;
const MIN_ACKS_PER_ROUND = 3;
const MAX_EXTRA_DELAY_MS = 150;

interface RoundResult {
  acked: number[];
  stderr: string;
  signal: NodeJS.Signals | null;
  code: number | null;
}

/** Runs the writer until it has acked a few batches, then SIGKILLs it at a random moment. */
function runAndKill(dir: string, start: number): Promise<RoundResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixturePath, dir, String(start)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked: number[] = [];
    let stdoutTail = '';
    let stderr = '';
    let killScheduled = false;
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer never acked ${MIN_ACKS_PER_ROUND} batches within 20 s; stderr:\n${stderr}`));
    }, 20_000);

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdoutTail += chunk;
      const lines = stdoutTail.split('\n');
      stdoutTail = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^ack (\d+)$/.exec(line);
        if (!m) {
          reject(new Error(`unexpected writer output: ${JSON.stringify(line)}`));
          continue;
        }
        acked.push(Number(m[1]));
      }
      if (!killScheduled && acked.length >= MIN_ACKS_PER_ROUND) {
        killScheduled = true;
        const delay = Math.floor(Math.random() * (MAX_EXTRA_DELAY_MS + 1));
        setTimeout(() => child.kill('SIGKILL'), delay);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (err) => {
      clearTimeout(guard);
      reject(err);
    });
    // 'close' (not 'exit') so every byte the child wrote to stdout has been read.
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ acked, stderr, code, signal });
    });
  });
}

describe('store durability under SIGKILL', () => {
  let dir: string;
  let cleanup: () => void;

  beforeAll(() => {
    ({ path: dir, cleanup } = tempDir());
  });

  afterAll(() => {
    cleanup();
  });

  it(
    'keeps every acknowledged batch whole and never leaves a half-written one',
    async () => {
      const allAcked = new Set<number>();
      let nextStart = 0;
      let totalAcked = 0;

      for (let round = 0; round < ROUNDS; round++) {
        const start = nextStart;
        const result = await runAndKill(dir, start);

        // It died of our SIGKILL, not of its own error.
        expect(result.signal, `round ${round}: writer stderr:\n${result.stderr}`).toBe('SIGKILL');
        expect(result.stderr).toBe('');
        expect(result.acked.length).toBeGreaterThanOrEqual(MIN_ACKS_PER_ROUND);
        // Acks come in order, starting at START, without gaps.
        expect(result.acked).toEqual(result.acked.map((_, i) => start + i));
        for (const b of result.acked) allAcked.add(b);
        totalAcked += result.acked.length;
        const maxAckedThisRound = result.acked[result.acked.length - 1] as number;

        const store = openStore({ path: dir });
        try {
          const meta = store.db('meta');
          const cas = new Cas(store);

          // Group every key on disk by batch.
          const present = new Map<number, Set<number>>();
          for (const key of meta.getKeys()) {
            const m = /^b(\d+):(\d+)$/.exec(String(key));
            expect(m, `unexpected key ${String(key)}`).not.toBeNull();
            const [batch, i] = [Number(m?.[1]), Number(m?.[2])];
            let set = present.get(batch);
            if (!set) present.set(batch, (set = new Set()));
            set.add(i);
          }

          // No half-written transaction: a batch is either absent or has all its keys,
          // each with the value written for it.
          for (const [batch, keys] of present) {
            expect(keys.size, `batch ${batch} is half-written: keys ${[...keys].join(',')}`).toBe(KEYS_PER_BATCH);
            for (let i = 0; i < KEYS_PER_BATCH; i++) {
              expect(meta.get(`b${batch}:${i}`)).toEqual(batchValue(batch, i));
            }
          }

          // Every batch acknowledged, in this round or any earlier one, is on disk whole.
          for (const batch of allAcked) {
            expect(present.has(batch), `acknowledged batch ${batch} lost`).toBe(true);
            const blob = batchBlob(batch);
            const got = cas.get(sha256Hex(blob));
            expect(got, `CAS blob of acknowledged batch ${batch} lost`).toBeDefined();
            expect(Buffer.from(got as Uint8Array).equals(Buffer.from(blob))).toBe(true);
          }

          // The writer is sequential: at most the one batch after the last ack can
          // be on disk unacknowledged (committed, killed before its ack).
          const maxOnDisk = Math.max(...present.keys());
          expect(maxOnDisk).toBeGreaterThanOrEqual(maxAckedThisRound);
          expect(maxOnDisk).toBeLessThanOrEqual(maxAckedThisRound + 1);

          nextStart = maxOnDisk + 1;
        } finally {
          await store.close();
        }
      }

      expect(totalAcked).toBeGreaterThanOrEqual(ROUNDS * MIN_ACKS_PER_ROUND);
    },
    120_000,
  );
});
