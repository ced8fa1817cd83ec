/**
 * Where each shard's leaf sits in a plan's Merkle tree, and where its
 * checkpoint is kept, once auto-tuning has split some shards (DESIGN.md §4):
 * leaves go in (stage, shard index) order, and a split shard is replaced in
 * place by its sub-shards, in order. Its stage's later leaves, and every later
 * stage's, move along by (sub-shards − 1).
 *
 * Sub-shards of a stage are numbered in the order their splits happened (its
 * *split space*: a split takes `parts` numbers from `first`); their
 * checkpoints are keyed (stage | SPLIT_STAGE_BIT, number), so splitting never
 * renames a checkpoint that exists. The split journal (split-journal.ts) keeps
 * the records, so the same plan always gets the same layout back.
 */

export interface SplitRecord {
  stage: number;
  /** The shard that was split. */
  shard: number;
  /** Its sub-shards. */
  parts: number;
  /** The first sub-shard's number in the stage's split space. */
  first: number;
  /** The factor asked for (`parts` is smaller when the input was smaller). */
  factor: number;
}

/** Marks a checkpoint key's stage as a split space. Stages are below it (plan.ts allows 1024). */
export const SPLIT_STAGE_BIT = 0x8000;

/** A leaf: its shard, and for a sub-shard its position and number in the split space. */
export interface LeafRef {
  stage: number;
  shard: number;
  sub?: { index: number; number: number };
}

export class LeafLayout {
  /** Per stage, its splits by shard index, and the leaves they add before each (and, last, in all). */
  private readonly splits: SplitRecord[][];
  private readonly extraBefore: number[][];
  private readonly offsets: number[] = [];
  total = 0;

  constructor(
    /** Each stage's shard count before any split. */
    private readonly counts: readonly number[],
    records: readonly SplitRecord[] = [],
  ) {
    this.splits = counts.map(() => []);
    this.extraBefore = counts.map(() => []);
    for (const r of records) this.insert(r);
    this.reindex();
  }

  get hasSplits(): boolean {
    return this.splits.some((s) => s.length > 0);
  }

  /** Every split, in (stage, shard) order. */
  records(): SplitRecord[] {
    return this.splits.flat();
  }

  /** Adds a split (one shard is split once). */
  add(record: SplitRecord): void {
    if (this.split(record.stage, record.shard)) throw new RangeError(`shard ${record.shard} of stage ${record.stage} is split already`);
    this.insert(record);
    this.reindex();
  }

  /** Leaves (shards after splits) in stage `stage`. */
  stageTotal(stage: number): number {
    return (stage + 1 < this.offsets.length ? (this.offsets[stage + 1] as number) : this.total) - (this.offsets[stage] as number);
  }

  /** The next free number in a stage's split space. */
  nextSubNumber(stage: number): number {
    let next = 0;
    for (const r of this.splits[stage] as SplitRecord[]) next = Math.max(next, r.first + r.parts);
    return next;
  }

  split(stage: number, shard: number): SplitRecord | undefined {
    const list = this.splits[stage];
    if (!list || list.length === 0) return undefined;
    const at = lowerBound(list, shard);
    return list[at]?.shard === shard ? list[at] : undefined;
  }

  /** The split whose sub-shards have split-space number `n`. */
  splitOfNumber(stage: number, n: number): SplitRecord | undefined {
    return (this.splits[stage] ?? []).find((r) => n >= r.first && n < r.first + r.parts);
  }

  /** Leaf of shard `shard` (not split), or of its sub-shard `sub` (split). */
  leafOf(stage: number, shard: number, sub = 0): number {
    const list = this.splits[stage] as SplitRecord[];
    const base = (this.offsets[stage] as number) + shard;
    if (list.length === 0) return base;
    const at = lowerBound(list, shard);
    return base + ((this.extraBefore[stage] as number[])[at] as number) + sub;
  }

  /** Leaf of sub-shard number `n` of a stage's split space. */
  leafOfNumber(stage: number, n: number): number {
    const r = this.splitOfNumber(stage, n);
    if (!r) throw new RangeError(`stage ${stage} has no sub-shard number ${n}`);
    return this.leafOf(stage, r.shard, n - r.first);
  }

  locate(leaf: number): LeafRef {
    if (!Number.isInteger(leaf) || leaf < 0 || leaf >= this.total) throw new RangeError(`leaf ${leaf} is outside a plan of ${this.total} leaves`);
    let stage = 0;
    while (stage + 1 < this.offsets.length && (this.offsets[stage + 1] as number) <= leaf) stage++;
    const local = leaf - (this.offsets[stage] as number);
    const list = this.splits[stage] as SplitRecord[];
    const extra = this.extraBefore[stage] as number[];
    // The last split whose sub-shards start at or before `local`.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((list[mid] as SplitRecord).shard + (extra[mid] as number) <= local) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return { stage, shard: local };
    const r = list[lo - 1] as SplitRecord;
    const start = r.shard + (extra[lo - 1] as number);
    if (local < start + r.parts) return { stage, shard: r.shard, sub: { index: local - start, number: r.first + local - start } };
    return { stage, shard: local - (extra[lo - 1] as number) - (r.parts - 1) };
  }

  /**
   * The plan's leaves in this layout, from the leaves of its unsplit shards
   * (`base`: stage after stage, `counts` each, split slots ignored) and of
   * each stage's sub-shards (`subs[stage]`, by split-space number).
   */
  expand(base: Uint8Array, subs: readonly (Uint8Array | undefined)[]): SharedArrayBuffer {
    const out = new SharedArrayBuffer(this.total * 32);
    const view = new Uint8Array(out);
    let from = 0;
    for (let stage = 0; stage < this.counts.length; stage++) {
      const count = this.counts[stage] as number;
      let to = this.offsets[stage] as number;
      let shard = 0;
      for (const r of this.splits[stage] as SplitRecord[]) {
        view.set(base.subarray((from + shard) * 32, (from + r.shard) * 32), to * 32);
        to += r.shard - shard;
        view.set((subs[stage] as Uint8Array).subarray(r.first * 32, (r.first + r.parts) * 32), to * 32);
        to += r.parts;
        shard = r.shard + 1;
      }
      view.set(base.subarray((from + shard) * 32, (from + count) * 32), to * 32);
      from += count;
    }
    return out;
  }

  private insert(r: SplitRecord): void {
    if (r.parts < 2 || r.shard < 0 || r.shard >= (this.counts[r.stage] ?? 0)) throw new RangeError(`not a split of this plan: stage ${r.stage}, shard ${r.shard}, ${r.parts} parts`);
    const list = this.splits[r.stage] as SplitRecord[];
    list.splice(lowerBound(list, r.shard), 0, r);
  }

  private reindex(): void {
    this.offsets.length = 0;
    let offset = 0;
    for (let stage = 0; stage < this.counts.length; stage++) {
      const extra = this.extraBefore[stage] as number[];
      extra.length = 0;
      let sum = 0;
      for (const r of this.splits[stage] as SplitRecord[]) {
        extra.push(sum);
        sum += r.parts - 1;
      }
      extra.push(sum);
      this.offsets.push(offset);
      offset += (this.counts[stage] as number) + sum;
    }
    this.total = offset;
  }
}

/** First position in `list` (sorted by shard) whose shard is ≥ `shard`. */
function lowerBound(list: readonly SplitRecord[], shard: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as SplitRecord).shard < shard) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
