/**
 * A live run's batches out in the pool, each with its cursor, its shards and
 * a way to cancel it. The pool's progress board says which shard of its
 * batch each slot runs now, so the run can name its running shards and how
 * long they have run (what auto-tuning watches); a split cancels the batches
 * that hold the shard it takes out.
 */
import type { ProgressBoard } from '../../kernel/progress-board.ts';
import type { LeafLayout } from '../checkpoints/leaf-layout.ts';
import { shardAddress } from '../plan/address.ts';
import { forEachShard, placeOf, type ShardRuns, type StageCursor } from './stage-cursor.ts';

export interface Flight {
  cursor: StageCursor;
  batch: ShardRuns;
  cancel: AbortController;
  /** Progress-board slot, once the pool gave one. */
  slot: number;
}

/** A shard running now, as the progress board sees it. */
export interface RunningShard {
  stage: number;
  shard: number;
  /** Set for a sub-shard: its place among its split shard's sub-shards. */
  sub?: number;
  elapsedMs: number;
  /** Its content address (computed on request: off the hot path). */
  casId(): string;
}

export class Flights {
  private readonly out = new Set<Flight>();

  /** A batch goes out. */
  add(cursor: StageCursor, batch: ShardRuns): Flight {
    const flight: Flight = { cursor, batch, cancel: new AbortController(), slot: -1 };
    this.out.add(flight);
    return flight;
  }

  /** A batch came back. */
  delete(flight: Flight): void {
    this.out.delete(flight);
  }

  /** The batches out now. */
  all(): Iterable<Flight> {
    return this.out;
  }

  /** Cancels the batches of `cursor` that hold shard `shard` (it was split). */
  cancel(cursor: StageCursor, shard: number): void {
    for (const f of this.out) {
      if (f.cursor !== cursor) continue;
      forEachShard(f.batch, (_j, i) => {
        if (i === shard) f.cancel.abort();
      });
    }
  }

  /** Every shard running now, with how long it has run (shards a split withdrew left out). */
  running(board: ProgressBoard, layout: LeafLayout, now: number): RunningShard[] {
    const out: RunningShard[] = [];
    for (const f of this.out) {
      if (f.slot < 0) continue;
      const { startedAt, position } = board.read(f.slot);
      if (startedAt === 0) continue;
      const { cursor, batch } = f;
      const i = shardAt(batch, position);
      if (i < 0 || cursor.isWithdrawn(i)) continue;
      const stage = cursor.stage;
      out.push({
        stage: stage.index,
        ...placeOf(layout, cursor, i),
        elapsedMs: now - startedAt,
        casId: () => shardAddress(stage.kind, stage.executor, cursor.inputOf(batch, position, i)).casId,
      });
    }
    return out;
  }
}

/** The shard index of the j-th shard of a batch (-1 past its end). */
function shardAt(batch: ShardRuns, j: number): number {
  const { runs } = batch;
  for (let r = 0, k = j; r < runs.length; r += 3) {
    const count = runs[r + 1] as number;
    if (k < count) return (runs[r] as number) + k;
    k -= count;
  }
  return -1;
}
