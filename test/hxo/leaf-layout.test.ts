/**
 * The leaf layout after splits (DESIGN.md §4): a split shard is replaced in
 * place by its sub-shards, in order. Checked against a layout built the
 * obvious way — a list of every leaf, stage by stage — for generated plans
 * and splits made in any order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LeafLayout, type SplitRecord } from '../../src/hxo/checkpoints/leaf-layout.ts';
import { splitRange } from '../../src/hxo/partitioners/worker-partitioners.ts';

interface Case {
  counts: number[];
  /** Splits in the order they happened (so `first` numbers go up in that order per stage). */
  splits: SplitRecord[];
}

const caseOf = fc
  .array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 })
  .chain((counts) =>
    fc
      .uniqueArray(
        fc.integer({ min: 0, max: counts.length - 1 }).chain((stage) => fc.record({ stage: fc.constant(stage), shard: fc.integer({ min: 0, max: (counts[stage] as number) - 1 }), parts: fc.integer({ min: 2, max: 6 }) })),
        { selector: (s) => `${s.stage}:${s.shard}`, maxLength: 12 },
      )
      .map((picked): Case => {
        const next = counts.map(() => 0);
        const splits = picked.map((p) => {
          const first = next[p.stage] as number;
          next[p.stage] = first + p.parts;
          return { ...p, first, factor: p.parts };
        });
        return { counts, splits };
      }),
  );

type Leaf = { stage: number; shard: number; sub?: { index: number; number: number } };

/** Every leaf in order, the obvious way. */
function naive({ counts, splits }: Case): Leaf[] {
  const leaves: Leaf[] = [];
  counts.forEach((count, stage) => {
    for (let shard = 0; shard < count; shard++) {
      const r = splits.find((s) => s.stage === stage && s.shard === shard);
      if (!r) leaves.push({ stage, shard });
      else for (let k = 0; k < r.parts; k++) leaves.push({ stage, shard, sub: { index: k, number: r.first + k } });
    }
  });
  return leaves;
}

describe('leaf layout', () => {
  it('places every leaf where the in-place rule says, both ways, however the splits came', () => {
    fc.assert(
      fc.property(caseOf, (c) => {
        const expected = naive(c);
        const layout = new LeafLayout(c.counts, c.splits);
        expect(layout.total).toBe(expected.length);
        expected.forEach((leaf, i) => {
          const located = layout.locate(i);
          expect(located.sub ? located : { stage: located.stage, shard: located.shard }).toEqual(leaf);
          expect(leaf.sub ? layout.leafOfNumber(leaf.stage, leaf.sub.number) : layout.leafOf(leaf.stage, leaf.shard)).toBe(i);
        });
        c.counts.forEach((_, stage) => expect(layout.stageTotal(stage)).toBe(expected.filter((l) => l.stage === stage).length));
        // Added one at a time (as a run splits), the layout is the same.
        const grown = new LeafLayout(c.counts);
        for (const r of c.splits) grown.add(r);
        expect(grown.records()).toEqual(layout.records());
        expect(Array.from({ length: grown.total }, (_, i) => grown.locate(i))).toEqual(Array.from({ length: layout.total }, (_, i) => layout.locate(i)));
      }),
      { numRuns: 300 },
    );
  });

  it('expands base and sub-shard leaves into the layout', () => {
    fc.assert(
      fc.property(caseOf, (c) => {
        const layout = new LeafLayout(c.counts, c.splits);
        const base = new Uint8Array(c.counts.reduce((a, b) => a + b, 0) * 32);
        const subs = c.counts.map((_, stage) => new Uint8Array(layout.nextSubNumber(stage) * 32));
        // Each leaf's bytes name it: base leaves 1 ‖ stage ‖ shard, sub-shard leaves 2 ‖ stage ‖ number.
        let offset = 0;
        c.counts.forEach((count, stage) => {
          for (let shard = 0; shard < count; shard++) base.set([1, stage, shard], (offset + shard) * 32);
          offset += count;
          for (let n = 0; n < layout.nextSubNumber(stage); n++) (subs[stage] as Uint8Array).set([2, stage, n], n * 32);
        });
        const out = new Uint8Array(layout.expand(base, subs));
        naive(c).forEach((leaf, i) => {
          expect([...out.subarray(i * 32, i * 32 + 3)]).toEqual(leaf.sub ? [2, leaf.stage, leaf.sub.number] : [1, leaf.stage, leaf.shard]);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a shard split twice and splits outside the plan', () => {
    const layout = new LeafLayout([4, 2], [{ stage: 0, shard: 1, parts: 2, first: 0, factor: 2 }]);
    expect(() => layout.add({ stage: 0, shard: 1, parts: 3, first: 2, factor: 3 })).toThrow(/split already/);
    expect(() => layout.add({ stage: 1, shard: 2, parts: 2, first: 0, factor: 2 })).toThrow(/not a split of this plan/);
    expect(() => layout.locate(layout.total)).toThrow(/outside a plan of 7 leaves/);
  });
});

describe('splitRange', () => {
  it('cuts a range into at most `factor` contiguous parts covering it exactly, sizes within one of each other', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 200 }), fc.integer({ min: 2, max: 64 }), (start, length, factor) => {
        const parts = splitRange({ end: start + length, start }, factor);
        expect(parts.length).toBe(Math.min(factor, length));
        expect(parts[0]?.start).toBe(start);
        expect(parts.at(-1)?.end).toBe(start + length);
        parts.forEach((p, k) => {
          expect(p.end).toBeGreaterThan(p.start);
          if (k > 0) expect(p.start).toBe(parts[k - 1]?.end);
        });
        const sizes = parts.map((p) => p.end - p.start);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        // Keys in canonical (sorted) order, as by_range writes its inputs.
        expect(Object.keys(parts[0] as object)).toEqual(['end', 'start']);
      }),
    );
  });
});
