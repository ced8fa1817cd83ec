/**
 * HexItems: packed event items stand for exactly the plain items they
 * unpack to — in memory, sliced, joined, and through msgpack.
 */
import { describe, expect, it } from 'vitest';
import { HexItems } from '../../src/core/hex-items.ts';
import { decode, encode } from '../../src/core/codec.ts';

const bytes = (...values: number[]) => Uint8Array.from(values);

describe('HexItems', () => {
  const strings = new HexItems(3, [{ name: '', bytes: 2, data: bytes(0, 1, 0xab, 0xcd, 0xff, 0) }]);
  const records = new HexItems(
    2,
    [
      { name: 'cas_id', bytes: 1, data: bytes(1, 2) },
      { name: 'output_digest', bytes: 2, data: bytes(3, 4, 5, 6) },
    ],
    [{ name: 'reused', data: bytes(0, 1) }],
  );

  it('unpacks to hex strings, or objects with flags only where set', () => {
    expect(strings.toArray()).toEqual(['0001', 'abcd', 'ff00']);
    expect(records.toArray()).toEqual([
      { cas_id: '01', output_digest: '0304' },
      { cas_id: '02', output_digest: '0506', reused: true },
    ]);
    expect(JSON.parse(JSON.stringify({ items: strings }))).toEqual({ items: ['0001', 'abcd', 'ff00'] });
  });

  it('slices and joins like the arrays they stand for', () => {
    expect(strings.slice(1, 3).toArray()).toEqual(['abcd', 'ff00']);
    expect(strings.slice(2, 10).toArray()).toEqual(['ff00']);
    expect(records.slice(1, 2).toArray()).toEqual([{ cas_id: '02', output_digest: '0506', reused: true }]);
    expect(strings.concat(strings.slice(0, 1))?.toArray()).toEqual(['0001', 'abcd', 'ff00', '0001']);
    expect(records.concat(records)?.toArray()).toEqual([...records.toArray(), ...records.toArray()]);
    expect(strings.concat(records)).toBeUndefined();
  });

  it('goes through msgpack as the plain array', () => {
    expect(decode(encode({ items: records, n: 1 }))).toEqual({ items: records.toArray(), n: 1 });
    expect(decode(encode([strings.slice(1, 2)]))).toEqual([['abcd']]);
  });

  it('refuses columns that do not match the item count or shape', () => {
    expect(() => new HexItems(2, [{ name: '', bytes: 2, data: bytes(1, 2, 3) }])).toThrow(/3 bytes for 2 items/);
    expect(() => new HexItems(1, [{ name: 'a', bytes: 1, data: bytes(1) }], [{ name: 'f', data: bytes(1, 1) }])).toThrow(/flag f/);
    expect(() => new HexItems(1, [{ name: '', bytes: 1, data: bytes(1) }, { name: 'b', bytes: 1, data: bytes(2) }])).toThrow(/one unnamed column/);
  });
});
