/**
 * CAS over a real LMDB environment: addresses are sha256 of the bytes, puts are
 * idempotent, reads re-verify the bytes, and blobs survive a close/reopen.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../kernel/helpers.ts';
import { Cas, addCasRefs, casDb, casRefsDb, dropCasRefs, sha256Hex } from '../../src/store/cas.ts';
import { openStore, type Store } from '../../src/store/env.ts';
import { CorruptBlobError } from '../../src/store/errors.ts';

const enc = new TextEncoder();

describe('Cas', () => {
  let dir: string;
  let cleanup: () => void;
  let store: Store;

  beforeEach(() => {
    ({ path: dir, cleanup } = tempDir());
    store = openStore({ path: dir });
  });

  afterEach(async () => {
    await store.close();
    cleanup();
  });

  const blobKeyCount = (): number => store.db<string, Uint8Array>('cas', { binary: true }).getKeysCount();

  it('round-trips bytes under their sha256 address', async () => {
    const cas = new Cas(store);
    const bytes = enc.encode('hello, content-addressed world');
    const hash = await cas.put(bytes);

    expect(hash).toBe(sha256Hex(bytes));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(cas.has(hash)).toBe(true);
    const back = cas.get(hash);
    expect(back).toBeDefined();
    expect(Buffer.from(back as Uint8Array).equals(Buffer.from(bytes))).toBe(true);

    // The empty blob and arbitrary binary content round-trip too.
    const empty = new Uint8Array(0);
    const binary = Uint8Array.from({ length: 4096 }, (_, i) => (i * 31 + 7) & 0xff);
    const [he, hb] = await cas.putMany([empty, binary]);
    expect(he).toBe(sha256Hex(empty));
    expect(hb).toBe(sha256Hex(binary));
    expect(cas.get(he as string)?.length).toBe(0);
    expect(Buffer.from(cas.get(hb as string) as Uint8Array).equals(Buffer.from(binary))).toBe(true);
  });

  it('stores the same bytes once, whether put twice or twice in one putMany', async () => {
    const cas = new Cas(store);
    const a = enc.encode('same bytes');
    const b = enc.encode('other bytes');

    const h1 = await cas.put(a);
    const h2 = await cas.put(Uint8Array.from(a)); // equal content, different buffer
    expect(h2).toBe(h1);
    expect(blobKeyCount()).toBe(1);

    const many = await cas.putMany([b, a, Uint8Array.from(b), a]);
    expect(many).toEqual([sha256Hex(b), h1, sha256Hex(b), h1]);
    expect(blobKeyCount()).toBe(2);

    const keys = [...store.db<string, Uint8Array>('cas', { binary: true }).getKeys()].sort();
    expect(keys).toEqual([h1, sha256Hex(b)].sort());
  });

  it('refuses to serve a blob whose stored bytes no longer match its address', async () => {
    const cas = new Cas(store);
    const original = enc.encode('the genuine article');
    const hash = await cas.put(original);

    // Tamper behind CAS's back: different bytes under the same key.
    const raw = store.db<string, Uint8Array>('cas', { binary: true });
    const forged = enc.encode('a forgery of the same length');
    await store.write(() => {
      void raw.put(hash, forged);
    });
    expect(Buffer.from(raw.getBinary(hash) as Uint8Array).equals(Buffer.from(forged))).toBe(true);

    let returned: Uint8Array | undefined;
    let caught: unknown;
    try {
      returned = cas.get(hash);
    } catch (err) {
      caught = err;
    }
    expect(returned).toBeUndefined();
    expect(caught).toBeInstanceOf(CorruptBlobError);
    const corrupt = caught as CorruptBlobError;
    expect(corrupt.hash).toBe(hash);
    expect(corrupt.actual).toBe(sha256Hex(forged));
    expect(corrupt.code).toBe('CORRUPT_BLOB');
    expect(corrupt.message).toContain(hash);

    // Repeatable: a second read throws again rather than caching anything.
    expect(() => cas.get(hash)).toThrow(CorruptBlobError);

    // Re-putting the genuine bytes does not overwrite (put is idempotent on the key),
    // so the corruption stays visible rather than being silently masked.
    await cas.put(original);
    expect(() => cas.get(hash)).toThrow(CorruptBlobError);
  });

  it('returns undefined for unknown or malformed hashes', async () => {
    const cas = new Cas(store);
    const hash = await cas.put(enc.encode('present'));

    const unknown = sha256Hex(enc.encode('never stored'));
    expect(cas.get(unknown)).toBeUndefined();
    expect(cas.has(unknown)).toBe(false);

    for (const bad of ['', 'abc', hash.toUpperCase(), hash.slice(1), `${hash}0`, 'z'.repeat(64), ` ${hash.slice(1)}`]) {
      expect(cas.get(bad)).toBeUndefined();
      expect(cas.has(bad)).toBe(false);
    }
    expect(cas.get(hash)).toBeDefined();
  });

  it('keeps blobs across close and reopen of the store', async () => {
    const cas = new Cas(store);
    const blobs = Array.from({ length: 50 }, (_, i) => enc.encode(`blob #${i} ${'y'.repeat(i * 37)}`));
    const hashes = await cas.putMany(blobs);
    const single = enc.encode('a single put');
    const singleHash = await cas.put(single);

    await store.close();
    store = openStore({ path: dir });
    const reopened = new Cas(store);

    hashes.forEach((hash, i) => {
      const back = reopened.get(hash);
      expect(back).toBeDefined();
      expect(Buffer.from(back as Uint8Array).equals(Buffer.from(blobs[i] as Uint8Array))).toBe(true);
    });
    expect(Buffer.from(reopened.get(singleHash) as Uint8Array).toString()).toBe('a single put');
    expect(blobKeyCount()).toBe(51);
  });

  it('owners hold blobs: dropping an owner deletes what no other owner holds, in chunks, and never a blob no owner named', async () => {
    const cas = new Cas(store);
    const [shared, onlyA, onlyB, unowned] = await cas.putMany(['shared', 'only a', 'only b', 'nobody'].map((t) => enc.encode(t)));
    const refs = casRefsDb(store);
    const blobs = casDb(store);
    await store.write(() => {
      addCasRefs(refs, 'plan:a', [shared as string, onlyA as string]);
      addCasRefs(refs, 'plan:b', [shared as string, onlyB as string]);
    });
    // A dry run counts, changes nothing.
    const dry = await store.write(() => dropCasRefs(refs, blobs, 'plan:a', Infinity, true));
    expect(dry).toEqual({ refs: 2, blobs: 1, bytes: 'only a'.length, done: true });
    expect(cas.has(onlyA as string)).toBe(true);
    // One reference per transaction.
    const rounds = [];
    for (let r = await store.write(() => dropCasRefs(refs, blobs, 'plan:a', 1)); ; r = await store.write(() => dropCasRefs(refs, blobs, 'plan:a', 1))) {
      rounds.push(r);
      if (r.done) break;
    }
    expect(rounds.reduce((n, r) => n + r.refs, 0)).toBe(2);
    expect(rounds.map((r) => [r.refs, r.done])).toEqual([[1, false], [1, true]]);
    expect([shared, onlyA, onlyB, unowned].map((h) => cas.has(h as string))).toEqual([true, false, true, true]);
    await store.write(() => dropCasRefs(refs, blobs, 'plan:b', 100));
    expect([shared, onlyA, onlyB, unowned].map((h) => cas.has(h as string))).toEqual([false, false, false, true]);
    expect(refs.getKeysCount()).toBe(0);
  });
});
