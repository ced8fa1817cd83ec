/**
 * report-checks.ts, the report checks a browser runs too (noble's SHA-256
 * and Ed25519, no Node): cross-checked against node:crypto on random keys,
 * messages and trees, and its list of checks names exactly the one a changed
 * byte breaks.
 */
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { certificateMessage } from '../../src/hxo/certify/certificate.ts';
import { inclusionProofs, leafHashOf, merkleRoot } from '../../src/hxo/certify/merkle.ts';
import { certificateText, checkReport, verifyInclusion, verifySignature } from '../../src/hxo/certify/report-checks.ts';

const rawPublicKey = (key: ReturnType<typeof generateKeyPairSync>['publicKey']): string => Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url').toString('hex');

/** The byte at `at` with one bit changed. */
function flipByte(bytes: Uint8Array, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = (copy[at] as number) ^ 0x01;
  return copy;
}

describe('report checks without Node', () => {
  it('verifySignature agrees with node:crypto on random keys and messages, intact or with one byte changed', () => {
    for (let i = 0; i < 24; i++) {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const message = randomBytes(1 + (i * 37) % 300);
      const signature = sign(null, message, privateKey);
      const key = rawPublicKey(publicKey);
      const cases: [Uint8Array, Buffer][] = [
        [message, signature],
        [flipByte(message, i % message.length), signature],
        [message, flipByte(signature, (i * 5) % 64)],
      ];
      for (const [m, s] of cases) expect(verifySignature(key, m, s.toString('hex'))).toBe(verify(null, m, publicKey, s));
    }
  });

  it('verifyInclusion accepts every proof node:crypto built, of random trees, and refuses any with a changed byte', () => {
    for (const n of [1, 2, 3, 7, 64, 100, 1000]) {
      const leaves = randomBytes(n * 32);
      const indices = [0, n - 1, Math.floor(n / 3)];
      for (const proof of inclusionProofs(leaves, indices, n)) {
        expect(verifyInclusion(proof)).toBe(true);
        const step = proof.path[0];
        if (step) expect(verifyInclusion({ ...proof, path: [{ ...step, hash: flipByte(Buffer.from(step.hash, 'hex'), 7).toString('hex') }, ...proof.path.slice(1)] })).toBe(false);
        expect(verifyInclusion({ ...proof, root_hash: flipByte(Buffer.from(proof.root_hash, 'hex'), 31).toString('hex') })).toBe(false);
      }
    }
  });

  it('signs the same bytes as certificate.ts', () => {
    const args = ['plan_ünïcode', 'ab'.repeat(32), 12, '2026-12-01T12:00:00.000Z'] as const;
    expect(new TextEncoder().encode(certificateText(...args))).toEqual(new Uint8Array(certificateMessage(...args)));
  });

  it('lists every check of a report, and only the one a changed byte breaks fails', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const n = 9;
    const shards = Array.from({ length: n }, () => ({ cas_id: randomBytes(8).toString('hex'), output_digest: randomBytes(32).toString('hex') }));
    const leaves = new Uint8Array(n * 32);
    shards.forEach((s, i) => leafHashOf(s.cas_id, s.output_digest, leaves, i * 32));
    const root = merkleRoot(leaves).toString('hex');
    const planId = 'plan_checks_1';
    const timestamp = '2026-12-01T12:00:00.000Z';
    const report = {
      plan_id: planId,
      merkle_root: root,
      total_shards: n,
      truth_certified: true,
      certificate: {
        certified: true,
        certificate_id: `cert_${planId.slice(0, 8)}_${root.slice(0, 12)}`,
        timestamp,
        merkle_root: root,
        total_shards: n,
        signature: sign(null, certificateMessage(planId, root, n, timestamp), privateKey).toString('hex'),
        public_key: rawPublicKey(publicKey),
      },
      sample_proofs: inclusionProofs(leaves, [0, 4, 8], n).map((p) => ({ ...p, leaf_cas_id: shards[p.leaf_index]?.cas_id, output_digest: shards[p.leaf_index]?.output_digest })),
    };
    const failing = (input: unknown, opts = {}): string[] => {
      const result = checkReport(input, opts);
      if (!result.shaped) return result.problems;
      return result.checks.filter((c) => c.problems.length > 0).map((c) => `${c.field}: ${c.problems.join('; ')}`);
    };

    const intact = checkReport(report);
    expect(intact.shaped && intact.checks.map((c) => [c.kind, c.field])).toEqual([
      ['report', 'truth_certified'],
      ['certificate', 'certificate.certificate_id'],
      ['certificate', 'certificate.signature'],
      ['report', 'certificate.merkle_root'],
      ['report', 'certificate.total_shards'],
      ['proof', 'sample_proofs[0]'],
      ['proof', 'sample_proofs[1]'],
      ['proof', 'sample_proofs[2]'],
    ]);
    expect(failing(report)).toEqual([]);
    expect(failing(report, { publicKeyHex: report.certificate.public_key.toUpperCase() })).toEqual([]);

    const otherOutput = structuredClone(report);
    (otherOutput.sample_proofs[1] as { output_digest: string }).output_digest = flipByte(Buffer.from(shards[4]?.output_digest ?? '', 'hex'), 0).toString('hex');
    expect(failing(otherOutput)).toEqual(['sample_proofs[1]: leaf_hash is not the hash of (leaf_cas_id, output_digest)']);

    const otherId = structuredClone(report);
    otherId.certificate.certificate_id = 'cert_x';
    // The id is not signed: only its own check fails.
    expect(failing(otherId)).toEqual([`certificate.certificate_id: "cert_x" should be "${report.certificate.certificate_id}"`]);

    const badCasId = structuredClone(report);
    (badCasId.sample_proofs[2] as { leaf_cas_id: string }).leaf_cas_id = 'XYZ';
    expect(failing(badCasId)[0]).toBe('sample_proofs[2]: leaf: cas_id: must be 16 lowercase hex characters, got "XYZ"');

    expect(failing({ ...report, certificate: { ...report.certificate, signature: 'ab' } })).toEqual(['certificate.signature: expected 128 lowercase hex characters']);
  });
});
