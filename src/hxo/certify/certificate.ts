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
import { CertificateInputError } from '../errors.ts';
import { certificateId, certificateSchema, certificateText, type Certificate } from './report-checks.ts';
import type { NodeKey } from './signing.ts';

// Checking a certificate needs no Node (the browser does it too): report-checks.ts.
export { verifyCertificate, type Certificate, type CertificateCheck } from './report-checks.ts';

const ROOT_RE = /^[0-9a-f]{64}$/;

export interface CertificateFields {
  planId: string;
  merkleRoot: string;
  totalShards: number;
  /** ISO-8601 UTC (`…Z`) or a Date; now when absent. */
  timestamp?: string | Date;
}

/** The exact bytes a certificate signs. */
export function certificateMessage(planId: string, merkleRoot: string, totalShards: number, timestamp: string): Buffer {
  return Buffer.from(certificateText(planId, merkleRoot, totalShards, timestamp), 'utf8');
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
