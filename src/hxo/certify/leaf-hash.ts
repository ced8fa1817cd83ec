/**
 * The native addon's Merkle-leaf functions (native/sha256.c), beside the
 * kernel's generic sha256Into (src/kernel/sha256.ts): undefined without the
 * addon, and every caller has a JS path that gives the same bytes.
 */
import { native, type NativeAddon } from '../../kernel/native.ts';

interface LeafHashing {
  perfectRoots(leaves: Uint8Array, from: number, to: number, size: number, out: Uint8Array): void;
  shardDone(output: Uint8Array, addresses: Uint8Array, checkpoint: Uint8Array, digests: Uint8Array, leaves: Uint8Array, j: number): void;
}

const addon = native as (NativeAddon & LeafHashing) | undefined;

/**
 * Roots of perfect Merkle subtrees: for each block b in [from, to), the RFC
 * 9162 root of the `size` (a power of two, ≤ 1024) leaf hashes starting at
 * leaf b·size, written at out[(b − from)·32] (merkle.ts).
 */
export const perfectRoots: LeafHashing['perfectRoots'] | undefined = addon?.perfectRoots;

/**
 * The hashing and byte layout of a done shard in one native call (see
 * encodeDoneShard in checkpoint-records.ts, which owns the layout).
 */
export const shardDone: LeafHashing['shardDone'] | undefined = addon?.shardDone;
