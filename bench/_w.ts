import { mkdtempSync } from 'node:fs';
import { runShardBatch, type ShardBatchTask } from '../src/hxo/shard-batch.ts';
import { ProgressBoard } from '../src/kernel/progress-board.ts';
import { encode, decode } from '../src/kernel/codec.ts';
import { fileURLToPath } from 'node:url';
import { Store } from '../src/store/env.ts';
const dir = mkdtempSync('/tmp/wb-');
let wr = 0, fn = 0;
const orig = Store.prototype.write;
Store.prototype.write = async function <T>(f: () => T): Promise<T> { const t0 = performance.now(); const r = await orig.call(this, () => { const a = performance.now(); const x = f(); fn += performance.now() - a; return x; }); wr += performance.now() - t0; return r as T; };
const board = ProgressBoard.create(4);
const module = fileURLToPath(new URL('../src/hxo/executors/compute-hash.ts', import.meta.url));
const N = 4096, R = 100;
let total = 0, enc = 0, dec = 0;
for (let r = 0; r < R; r++) {
  const runs = [r * N, N, 1];
  const task: ShardBatchTask = { t: 'shards', slot: 0, plan_id: '0b1c2d3e-0000-8000-8000-000000000000', stage_index: 0, kind: 'compute.hash', executor: 'hash', module, config_digest: 'x', memo_lookup: false, memo_record: false, timeout_ms: 30000, max_attempts: 1, runs, partitioner: 'by_range', config: { total: 1e9, per_shard: 1, rounds: 1 } };
  const t0 = performance.now();
  const bytes = encode(task);
  const t1 = performance.now();
  const decoded = decode<ShardBatchTask>(bytes);
  const t2 = performance.now();
  const res = await runShardBatch(decoded, board, dir, 1);
  const t3 = performance.now();
  encode(res);
  const t4 = performance.now();
  if (r >= 10) { enc += t1 - t0; dec += t2 - t1; total += t3 - t2 + (t4 - t3); }
}
const per = (ms: number) => (ms * 1000 / (N * (R - 10))).toFixed(3);
console.log(`write total ${per(wr)} (callback ${per(fn)})`);
console.log(`main encode ${per(enc)} us/shard, worker decode ${per(dec)}, worker run+encode ${per(total)}`);
