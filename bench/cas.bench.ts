/**
 * CAS puts/s for 1 KiB blobs: `putMany` of 1,000 (one durable transaction) and
 * single `put`s. Every blob is new (a counter is stamped into it), so no put is
 * skipped as a duplicate; blobs are built before each iteration, untimed.
 */
import { randomBytes } from 'node:crypto';
import { openStore } from '../src/store/env.ts';
import { Cas } from '../src/store/cas.ts';
import { runSuite, tempDir, type BenchRow, type TaskSpec } from './lib.ts';

const BLOB_BYTES = 1024;
const BATCH = 1_000;

export async function benchCas(): Promise<BenchRow[]> {
  const dir = tempDir('cas');
  const store = openStore({ path: dir.path });
  const template = randomBytes(BLOB_BYTES);
  let counter = 0;
  const freshBlobs = (n: number): Uint8Array[] =>
    Array.from({ length: n }, () => {
      const blob = new Uint8Array(template);
      new DataView(blob.buffer).setFloat64(0, counter++);
      return blob;
    });
  try {
    const cas = new Cas(store);
    let one: Uint8Array = new Uint8Array(0);
    let many: Uint8Array[] = [];
    const single = 'cas: put 1 KiB';
    const specs: TaskSpec[] = [
      {
        name: single,
        unit: 'puts/s',
        opsPerIteration: 1,
        beforeEach: () => {
          one = freshBlobs(1)[0] as Uint8Array;
        },
        fn: () => cas.put(one),
      },
      {
        name: `cas: putMany ${BATCH} × 1 KiB`,
        unit: 'puts/s',
        opsPerIteration: BATCH,
        baseline: single,
        beforeEach: () => {
          many = freshBlobs(BATCH);
        },
        fn: () => cas.putMany(many),
      },
    ];
    return await runSuite('cas', specs);
  } finally {
    await store.close();
    dir.remove();
  }
}
