/**
 * The node key: created once with private permissions, the same key on every
 * later load, and signatures that fail on any change to message, signature or key.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../kernel/helpers.ts';
import { NodeKeyError } from '../../src/hxo/errors.ts';
import { loadOrCreateNodeKey, nodeKeyPath, verifySignature } from '../../src/hxo/certify/signing.ts';

const enc = new TextEncoder();

describe('node key', () => {
  let dir: string;
  let cleanup: () => void;

  beforeEach(() => {
    ({ path: dir, cleanup } = tempDir());
  });

  afterEach(() => {
    cleanup();
  });

  it('is created once as a 0600 PKCS#8 PEM in a 0700 keys directory, and reloaded after', () => {
    const first = loadOrCreateNodeKey(dir);
    const file = nodeKeyPath(dir);
    expect(first.path).toBe(file);
    expect(file).toBe(path.join(dir, 'keys', 'node.ed25519.pem'));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    const pem = fs.readFileSync(file, 'utf8');
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(first.publicKeyHex).toMatch(/^[0-9a-f]{64}$/);

    const again = loadOrCreateNodeKey(dir);
    expect(again.publicKeyHex).toBe(first.publicKeyHex);
    expect(fs.readFileSync(file, 'utf8')).toBe(pem);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['node.ed25519.pem']);
  });

  it('signs so that the raw public key verifies, and rejects any tampering', () => {
    const key = loadOrCreateNodeKey(dir);
    const msg = enc.encode('xyn-cert-v1\nplan\n' + 'a'.repeat(64));
    const sig = key.sign(msg);
    expect(sig).toMatch(/^[0-9a-f]{128}$/);
    expect(verifySignature(key.publicKeyHex, msg, sig)).toBe(true);

    const tamperedMsg = Uint8Array.from(msg);
    tamperedMsg[5] = (tamperedMsg[5] as number) ^ 1;
    expect(verifySignature(key.publicKeyHex, tamperedMsg, sig)).toBe(false);

    const flip = (hex: string, at: number) => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);
    for (const at of [0, 63, 64, 127]) expect(verifySignature(key.publicKeyHex, msg, flip(sig, at))).toBe(false);
    for (const at of [0, 31, 63]) expect(verifySignature(flip(key.publicKeyHex, at), msg, sig)).toBe(false);

    const other = tempDir();
    try {
      const otherKey = loadOrCreateNodeKey(other.path);
      expect(otherKey.publicKeyHex).not.toBe(key.publicKeyHex);
      expect(verifySignature(otherKey.publicKeyHex, msg, sig)).toBe(false);
    } finally {
      other.cleanup();
    }
  });

  it('verifySignature returns false, never throws, on garbage', () => {
    const key = loadOrCreateNodeKey(dir);
    const msg = enc.encode('m');
    const sig = key.sign(msg);
    for (const [k, s] of [
      ['', sig],
      [key.publicKeyHex.slice(2), sig],
      ['zz'.repeat(32), sig],
      [key.publicKeyHex, sig.slice(2)],
      [key.publicKeyHex, 'zz'.repeat(64)],
      [null, sig],
      [key.publicKeyHex, 42],
    ] as const) {
      expect(verifySignature(k, msg, s)).toBe(false);
    }
    expect(verifySignature(key.publicKeyHex, null as unknown as Uint8Array, sig)).toBe(false);
  });

  it('refuses a key file that is not an Ed25519 private key', () => {
    fs.mkdirSync(path.join(dir, 'keys'), { recursive: true });
    fs.writeFileSync(nodeKeyPath(dir), 'not a key');
    expect(() => loadOrCreateNodeKey(dir)).toThrow(NodeKeyError);
  });
});
