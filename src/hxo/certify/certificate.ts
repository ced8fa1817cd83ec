/**
 * Truth certificates: the node's Ed25519 signature over a plan's Merkle root.
 *
 * The signed message is plain text, so anyone can rebuild it by hand:
 *
 *   xyn-cert-v1\n{plan_id}\n{merkle_root}\n{total_shards}\n{timestamp}
 *
 * (merkle_root, total_shards and timestamp never contain a newline, so the
 * message reads back unambiguously from the right whatever the plan id holds).
 * The certificate carries the public key, so checking it needs nothing else;
 * whether that key is one you trust is a separate question (`publicKeyHex`).
 */
import { z } from 'zod';
import { describeIssue } from '../../core/errors.ts';
import { CertificateInputError } from '../errors.ts';
import type { NodeKey } from './signing.ts';
import { verifySignature } from './signing.ts';

const ROOT_RE = /^[0-9a-f]{64}$/;
const hex = (chars: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${chars}}$`), `expected ${chars} lowercase hex characters`);

export const certificateSchema = z.object({
  certified: z.literal(true),
  certificate_id: z.string(),
  timestamp: z.iso.datetime({ message: 'expected an ISO-8601 UTC timestamp' }),
  merkle_root: hex(64),
  total_shards: z.number().int().nonnegative(),
  signature: hex(128),
  public_key: hex(64),
});

export type Certificate = z.infer<typeof certificateSchema>;

export interface CertificateFields {
  planId: string;
  merkleRoot: string;
  totalShards: number;
  /** ISO-8601 UTC (`…Z`) or a Date; now when absent. */
  timestamp?: string | Date;
}

/** The exact bytes a certificate signs. */
export function certificateMessage(planId: string, merkleRoot: string, totalShards: number, timestamp: string): Buffer {
  return Buffer.from(`xyn-cert-v1\n${planId}\n${merkleRoot}\n${totalShards}\n${timestamp}`, 'utf8');
}

export function certificateId(planId: string, merkleRoot: string): string {
  return `cert_${planId.slice(0, 8)}_${merkleRoot.slice(0, 12)}`;
}

function isoTimestamp(timestamp: string | Date | undefined): string {
  if (timestamp === undefined) return new Date().toISOString();
  if (timestamp instanceof Date) {
    if (Number.isNaN(timestamp.getTime())) throw new CertificateInputError('timestamp', 'is an invalid Date');
    return timestamp.toISOString();
  }
  if (!certificateSchema.shape.timestamp.safeParse(timestamp).success) {
    throw new CertificateInputError('timestamp', `must be ISO-8601 UTC like 2025-01-31T12:00:00.000Z, got ${JSON.stringify(timestamp)}`);
  }
  return timestamp;
}

/** Signs the plan's root with the node key. */
export function issueCertificate(key: NodeKey, fields: CertificateFields): Certificate {
  const { planId, merkleRoot, totalShards } = fields;
  if (typeof planId !== 'string' || planId.length === 0) throw new CertificateInputError('planId', 'must be a non-empty string');
  if (typeof merkleRoot !== 'string' || !ROOT_RE.test(merkleRoot)) {
    throw new CertificateInputError('merkleRoot', `must be 64 lowercase hex characters, got ${JSON.stringify(merkleRoot)}`);
  }
  if (!Number.isSafeInteger(totalShards) || totalShards < 0) {
    throw new CertificateInputError('totalShards', `must be an integer ≥ 0, got ${totalShards}`);
  }
  const timestamp = isoTimestamp(fields.timestamp);
  return {
    certified: true,
    certificate_id: certificateId(planId, merkleRoot),
    timestamp,
    merkle_root: merkleRoot,
    total_shards: totalShards,
    signature: key.sign(certificateMessage(planId, merkleRoot, totalShards, timestamp)),
    public_key: key.publicKeyHex,
  };
}

export interface CertificateCheck {
  ok: boolean;
  reason?: string;
}

/**
 * Checks that `cert` is well-formed, names `planId`, and is signed by the key it
 * carries (and, with `publicKeyHex`, that this is that key). Never throws.
 */
export function verifyCertificate(planId: string, cert: unknown, opts: { publicKeyHex?: string } = {}): CertificateCheck {
  const parsed = certificateSchema.safeParse(cert);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: issue ? describeIssue('certificate', issue) : 'certificate: invalid' };
  }
  const c = parsed.data;
  if (typeof planId !== 'string') return { ok: false, reason: 'plan_id: expected a string' };
  const expectedId = certificateId(planId, c.merkle_root);
  if (c.certificate_id !== expectedId) {
    return { ok: false, reason: `certificate.certificate_id: ${JSON.stringify(c.certificate_id)} should be ${JSON.stringify(expectedId)}` };
  }
  if (opts.publicKeyHex !== undefined && c.public_key !== opts.publicKeyHex.toLowerCase()) {
    return { ok: false, reason: `certificate.public_key: signed by ${c.public_key}, not by the expected key ${opts.publicKeyHex}` };
  }
  const message = certificateMessage(planId, c.merkle_root, c.total_shards, c.timestamp);
  if (!verifySignature(c.public_key, message, c.signature)) {
    return { ok: false, reason: 'certificate.signature: not a valid signature by certificate.public_key over this plan_id, merkle_root, total_shards and timestamp' };
  }
  return { ok: true };
}
