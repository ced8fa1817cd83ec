/**
 * Generated values for the canonical writer's tests (test/core/canonical,
 * test/hxo/address): every shape the direct writer takes and the ones it
 * leaves to msgpackr, and the reference bytes — msgpackr's, of the key-sorted
 * value — that it must give.
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { sortKeysDeep } from '../../src/core/canonical.ts';

const reference = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });
export const msgpackrBytes = (v: unknown) => Buffer.from(reference.pack(sortKeysDeep(v))).toString('hex');
export const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : undefined);

const boundaryInts = fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, -1, -0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, -0x80000000);
export const asciiKey = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz_0123456789'), maxLength: 12 });
const anyKey = fc.oneof(asciiKey, fc.string(), fc.constantFrom('0', '7', '10', '01', '__proto__x', '__proto__'));
const leaf = fc.oneof(
  fc.integer({ min: -0x80000000, max: 0xffffffff }),
  boundaryInts,
  fc.double(),
  fc.constantFrom(2 ** 32, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, -0),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 8 }),
);
export const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 20 }), fc.dictionary(anyKey, tie('v'), { maxKeys: 20 })),
})).v;
