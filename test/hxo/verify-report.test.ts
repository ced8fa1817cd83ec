/**
 * Offline report verification: a report built from a real tree and a fresh
 * node key passes, and changing one hex character anywhere that matters, or
 * leaving out a field, fails with an error naming what broke.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../kernel/helpers.ts';
import { certificateMessage, issueCertificate, verifyCertificate } from '../../src/hxo/certify/certificate.ts';
import { CertificateInputError } from '../../src/hxo/errors.ts';
import { inclusionProofs, leafHashOf, merkleRoot } from '../../src/hxo/certify/merkle.ts';
import { loadOrCreateNodeKey, verifySignature, type NodeKey } from '../../src/hxo/certify/signing.ts';
import { verifyReport } from '../../src/hxo/certify/verify-report.ts';

const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Changes the hex digit at `at` (so exactly one byte of the decoded value changes). */
const flipHex = (hex: string, at = 0): string => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);

type Json = Record<string, unknown>;
const clone = <T>(v: T): T => structuredClone(v);

describe('verifyReport', () => {
  let dir: string;
  let cleanup: () => void;
  let key: NodeKey;
  let report: Json & {
    merkle_root: string;
    certificate: Json & { signature: string; public_key: string };
    sample_proofs: (Json & { leaf_hash: string; path: { side: string; hash: string }[] })[];
  };

  beforeAll(() => {
    ({ path: dir, cleanup } = tempDir());
    key = loadOrCreateNodeKey(dir);
    const n = 20;
    const shards = Array.from({ length: n }, (_, i) => ({
      cas_id: sha256Hex(`input ${i}`).slice(0, 16),
      output_digest: sha256Hex(`output ${i}`),
    }));
    const leaves = new Uint8Array(n * 32);
    shards.forEach((s, i) => leafHashOf(s.cas_id, s.output_digest, leaves, i * 32));
    const root = merkleRoot(leaves).toString('hex');
    const planId = 'plan_7f3a9c21d4e8';
    const indices = [0, 1, 2, 3, 5, 7, 8, 10, 11, 13, 14, 15, 16, 17, 18, 19];
    const proofs = inclusionProofs(leaves, indices, n).map((p) => ({
      ...p,
      leaf_cas_id: shards[p.leaf_index]?.cas_id,
      output_digest: shards[p.leaf_index]?.output_digest,
    }));
    report = {
      plan_id: planId,
      status: 'completed',
      merkle_root: root,
      total_shards: n,
      truth_certified: true,
      certificate: issueCertificate(key, { planId, merkleRoot: root, totalShards: n }),
      sample_proofs: proofs,
    } as typeof report;
  });

  afterAll(() => {
    cleanup();
  });

  it('accepts an untouched report (also after a JSON round trip)', () => {
    const result = verifyReport(JSON.parse(JSON.stringify(report)));
    expect(result).toEqual({ ok: true, checked: { signature: true, proofs: 16 }, errors: [], summary: [] });
    expect(verifyReport(report, { publicKeyHex: key.publicKeyHex }).ok).toBe(true);
  });

  it('rejects one changed byte in a proof path hash', () => {
    const r = clone(report);
    const step = r.sample_proofs[3]?.path[1];
    if (!step) throw new Error('fixture: proof 3 has a path');
    step.hash = flipHex(step.hash, 10);
    const result = verifyReport(r);
    expect(result.ok).toBe(false);
    expect(result.checked).toEqual({ signature: true, proofs: 15 });
    expect(result.errors).toEqual(['sample_proofs[3]: path does not lead to merkle_root']);
    expect(result.summary).toEqual(['1 of 16 sample proofs does not verify against merkle_root (first: sample_proofs[3]: path does not lead to merkle_root)']);
  });

  it('rejects one changed byte in a proof leaf_hash', () => {
    const r = clone(report);
    const proof = r.sample_proofs[7];
    if (!proof) throw new Error('fixture');
    proof.leaf_hash = flipHex(proof.leaf_hash, 63);
    const result = verifyReport(r);
    expect(result.ok).toBe(false);
    expect(result.errors).toContain('sample_proofs[7]: leaf_hash is not the hash of (leaf_cas_id, output_digest)');
    expect(result.errors).toContain('sample_proofs[7]: path does not lead to merkle_root');
  });

  it('rejects one changed byte in the merkle_root', () => {
    const r = clone(report);
    r.merkle_root = flipHex(r.merkle_root, 0);
    const result = verifyReport(r);
    expect(result.ok).toBe(false);
    expect(result.errors).toContain('certificate.merkle_root: differs from merkle_root');
    expect(result.errors).toContain('sample_proofs[0]: root_hash differs from merkle_root');
    expect(result.errors).toContain('sample_proofs[0]: path does not lead to merkle_root');
    expect(result.checked.proofs).toBe(0);
    // In short: the root check first, then every proof as one count.
    expect(result.summary).toEqual([
      'certificate.merkle_root: differs from merkle_root',
      '16 of 16 sample proofs do not verify against merkle_root (first: sample_proofs[0]: root_hash differs from merkle_root; path does not lead to merkle_root)',
    ]);
  });

  it('rejects one changed byte in the signature', () => {
    const r = clone(report);
    r.certificate.signature = flipHex(r.certificate.signature, 40);
    const result = verifyReport(r);
    expect(result.ok).toBe(false);
    expect(result.checked).toEqual({ signature: false, proofs: 16 });
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatch(/^certificate\.signature: /);
  });

  it('rejects one changed byte in the public key', () => {
    const r = clone(report);
    r.certificate.public_key = flipHex(r.certificate.public_key, 20);
    const result = verifyReport(r);
    expect(result.ok).toBe(false);
    expect(result.checked.signature).toBe(false);
    expect(result.errors[0]).toMatch(/^certificate\.signature: /);
  });

  it('rejects a certificate signed by another key when a key is expected', () => {
    const result = verifyReport(report, { publicKeyHex: flipHex(key.publicKeyHex, 5) });
    expect(result.ok).toBe(false);
    expect(result.errors[0]).toMatch(/^certificate\.public_key: /);
  });

  it('rejects a certificate re-used for another plan, or a report that is not certified', () => {
    const other = clone(report);
    other.plan_id = 'plan_other';
    expect(verifyReport(other).errors.join('\n')).toMatch(/certificate\.certificate_id|certificate\.signature/);
    const sameId = clone(report);
    sameId.plan_id = `${report.plan_id as string}x`; // same 8-char prefix, so only the signature catches it
    const res = verifyReport(sameId);
    expect(res.ok).toBe(false);
    expect(res.errors[0]).toMatch(/^certificate\.signature: /);

    const uncertified = clone(report);
    uncertified.truth_certified = false;
    expect(verifyReport(uncertified).errors).toEqual(['truth_certified: the report does not claim a certified result']);
  });

  it('rejects proofs for another tree size', () => {
    const r = clone(report);
    r.total_shards = 21;
    r.certificate = issueCertificate(key, { planId: r.plan_id as string, merkleRoot: r.merkle_root, totalShards: 21 });
    const result = verifyReport(r);
    expect(result.ok).toBe(false);
    expect(result.checked.signature).toBe(true);
    expect(result.errors).toContain('sample_proofs[0]: tree_size 20 differs from total_shards 21');
  });

  it('names the missing or malformed field', () => {
    const noRoot = clone(report) as Json;
    delete noRoot.merkle_root;
    const a = verifyReport(noRoot);
    expect(a.ok).toBe(false);
    expect(a.checked).toEqual({ signature: false, proofs: 0 });
    expect(a.errors.some((e) => e.startsWith('merkle_root: '))).toBe(true);

    const noSide = clone(report);
    delete (noSide.sample_proofs[2]?.path[0] as Partial<{ side: string }>).side;
    expect(verifyReport(noSide).errors.some((e) => e.startsWith('sample_proofs[2].path[0].side: '))).toBe(true);

    const noCertSig = clone(report);
    delete (noCertSig.certificate as Partial<typeof noCertSig.certificate>).signature;
    expect(verifyReport(noCertSig).errors.some((e) => e.startsWith('certificate.signature: '))).toBe(true);

    for (const garbage of [null, 42, 'report', [], {}]) {
      const result = verifyReport(garbage);
      expect(result.ok).toBe(false);
      expect(result.errors.length).toBeGreaterThan(0);
    }
  });
});

describe('certificates', () => {
  let dir: string;
  let cleanup: () => void;
  let key: NodeKey;
  beforeAll(() => {
    ({ path: dir, cleanup } = tempDir());
    key = loadOrCreateNodeKey(dir);
  });
  afterAll(() => {
    cleanup();
  });

  const root = 'c0ffee'.padEnd(64, '0');

  it('signs the documented text message and has the documented id', () => {
    const cert = issueCertificate(key, { planId: 'abcdefghijkl', merkleRoot: root, totalShards: 3, timestamp: '2025-01-31T12:00:00.000Z' });
    expect(cert).toMatchObject({
      certified: true,
      certificate_id: `cert_abcdefgh_${root.slice(0, 12)}`,
      timestamp: '2025-01-31T12:00:00.000Z',
      merkle_root: root,
      total_shards: 3,
      public_key: key.publicKeyHex,
    });
    const text = `xyn-cert-v1\nabcdefghijkl\n${root}\n3\n2025-01-31T12:00:00.000Z`;
    expect(certificateMessage('abcdefghijkl', root, 3, cert.timestamp).toString('utf8')).toBe(text);
    expect(verifySignature(key.publicKeyHex, Buffer.from(text), cert.signature)).toBe(true);
    expect(verifyCertificate('abcdefghijkl', cert)).toEqual({ ok: true });
    expect(verifyCertificate('abcdefghijkl', { ...cert, timestamp: '2025-01-31T12:00:01.000Z' }).ok).toBe(false);
    expect(verifyCertificate('abcdefghijkl', { ...cert, total_shards: 4 }).ok).toBe(false);
    expect(verifyCertificate('abcdefghijkl', { ...cert, certified: false }).reason).toMatch(/^certificate\.certified: /);
  });

  it('defaults the timestamp to now in ISO-8601 UTC and refuses bad fields', () => {
    const cert = issueCertificate(key, { planId: 'p', merkleRoot: root, totalShards: 0 });
    expect(cert.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Math.abs(Date.parse(cert.timestamp) - Date.now())).toBeLessThan(60_000);
    expect(verifyCertificate('p', cert).ok).toBe(true);
    expect(() => issueCertificate(key, { planId: '', merkleRoot: root, totalShards: 0 })).toThrow(CertificateInputError);
    expect(() => issueCertificate(key, { planId: 'p', merkleRoot: root.toUpperCase(), totalShards: 0 })).toThrow(CertificateInputError);
    expect(() => issueCertificate(key, { planId: 'p', merkleRoot: root, totalShards: -1 })).toThrow(CertificateInputError);
    expect(() => issueCertificate(key, { planId: 'p', merkleRoot: root, totalShards: 1, timestamp: '2025-01-31 12:00' })).toThrow(
      CertificateInputError,
    );
  });
});
