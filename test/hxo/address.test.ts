/**
 * shardAddress (the hot path's address, hashed from a scratch view) must agree
 * byte for byte with the rule as DESIGN.md §4 states it, for any kind,
 * executor and input: short and long names, unsorted and nested inputs. Its
 * frame, written directly, must be msgpackr's bytes of the same map.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { copyFrameInput, shardAddress, writeAddressFrame } from '../../src/hxo/plan/address.ts';
import { canonicalEncode, writeCanonical } from '../../src/core/canonical.ts';
import { asciiKey, hex, msgpackrBytes, value } from '../helpers/canonical-values.ts';

const spec = (kind: string, executor: string, input: unknown): string =>
  createHash('sha256').update(canonicalEncode({ executor, input, kind })).digest('hex');

describe('shardAddress', () => {
  const kinds: [string, string][] = [
    ['compute.hash', 'hash'],
    ['deploy.pack', 'pack_backend'],
    ['team.a_kind_name_longer_than_thirty_one_bytes', 'an_executor_name_longer_than_thirty_one_bytes_too'],
  ];
  const inputs: unknown[] = [
    { end: 1, start: 0 },
    { start: 5, end: 9 },
    { z: [3, { b: 2, a: 1 }], a: 'x'.repeat(300), m: null },
    'a bare string',
    42,
    [1, 2, 3],
    { nested: { deeper: { list: Array.from({ length: 40 }, (_, i) => i * 1.5) } } },
  ];

  it('is sha256 of the canonical msgpack of {executor, input, kind}, cas_id its first 16 hex chars', () => {
    for (const [kind, executor] of kinds) {
      for (const input of inputs) {
        const expected = spec(kind, executor, input);
        // Twice: the scratch buffers it reuses must not leak between calls.
        for (let k = 0; k < 2; k++) expect(shardAddress(kind, executor, input)).toEqual({ full: expected, casId: expected.slice(0, 16) });
      }
    }
  });
});

describe('the address frame', () => {
  it('is written as the sorted {executor, input, kind} map, and hands out the input\'s own bytes from it', () => {
    const target = new Uint8Array(1 << 20);
    fc.assert(
      fc.property(asciiKey, asciiKey, value, (kind, executor, input) => {
        const frame = writeAddressFrame(kind, executor, input);
        if (frame) {
          expect(hex(frame)).toBe(msgpackrBytes({ kind, input, executor }));
          const n = copyFrameInput(target);
          expect(hex(target.subarray(0, n))).toBe(hex(canonicalEncode(input)));
        } else {
          expect(writeCanonical(input)).toBeUndefined();
          expect(copyFrameInput(target)).toBe(-1);
        }
        // Any other encode in between: no frame to copy from.
        writeCanonical(1);
        expect(copyFrameInput(target)).toBe(-1);
      }),
      { numRuns: 2000 },
    );
  });
});
