/**
 * The split journal: every shard auto-tuning split, by plan digest, in LMDB.
 *
 * A split is recorded (durably) before any of its sub-shards runs, so a node
 * that crashes after a split resumes with the same layout, and a plan run
 * again — the same digest — is laid out as it was: the same shard set, the
 * same root (DESIGN.md §4). Only the factor is kept: the sub-shards' inputs
 * are made again from the partitioner (`at`, then `split`), which is
 * deterministic.
 */
import type { Database } from 'lmdb';
import type { Store } from '../../store/env.ts';
import type { SplitRecord } from './leaf-layout.ts';

export const SPLITS_DB = 'splits';

export interface JournaledSplit extends SplitRecord {
  /** The plan run that split it, and when. */
  plan_id: string;
  at: string;
}

export class SplitJournal {
  private readonly db: Database<JournaledSplit, string>;

  constructor(private readonly store: Store) {
    this.db = store.db<string, JournaledSplit>(SPLITS_DB);
  }

  /** The splits of a plan digest, in (stage, shard) order. */
  load(digest: string): JournaledSplit[] {
    const out: JournaledSplit[] = [];
    for (const { value } of this.db.getRange({ start: `${digest}:`, end: `${digest};` })) out.push(value);
    return out.sort((a, b) => a.stage - b.stage || a.shard - b.shard);
  }

  /** Records a split durably. */
  async record(digest: string, split: JournaledSplit): Promise<void> {
    await this.store.write(() => void this.db.put(`${digest}:${split.stage}:${split.shard}`, split));
  }
}
