/**
 * Offline verification of a plan report (`xyn verify REPORT.json`): no data
 * directory, no node, just the report's own fields and arithmetic.
 *
 * - the certificate is a valid Ed25519 signature over this plan_id, its
 *   merkle_root, total_shards and timestamp, and agrees with the report;
 * - every sample proof is a leaf of exactly this tree: its leaf_hash is the hash
 *   of (leaf_cas_id, output_digest) and its RFC 9162 path leads to merkle_root.
 *
 * Every failure is listed with the field it concerns, e.g.
 * `sample_proofs[3]: path does not lead to merkle_root`; nothing throws.
 * One changed digit of the root fails every proof, so `summary` says the
 * same in a few lines, what `xyn verify` prints: the report's own failures
 * (signature, root), then the failing proofs as one count naming the first.
 */
import { z } from 'zod';
import { describeIssue } from '../../core/errors.ts';
import { certificateSchema, verifyCertificate } from './certificate.ts';
import { leafData, leafHash, verifyInclusion } from './merkle.ts';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters');

const proofSchema = z.object({
  leaf_cas_id: z.string(),
  leaf_index: z.number().int().nonnegative(),
  tree_size: z.number().int().positive(),
  output_digest: hex64,
  leaf_hash: hex64,
  path: z.array(z.object({ side: z.enum(['left', 'right']), hash: hex64 })),
  root_hash: hex64,
});

export const reportSchema = z.object({
  plan_id: z.string().min(1),
  merkle_root: hex64,
  total_shards: z.number().int().nonnegative(),
  truth_certified: z.boolean(),
  certificate: certificateSchema,
  sample_proofs: z.array(proofSchema),
});

export type SampleProof = z.infer<typeof proofSchema>;
export type VerifiableReport = z.infer<typeof reportSchema>;

export interface ReportVerification {
  ok: boolean;
  /** signature: the certificate's signature holds; proofs: how many sample proofs passed every check. */
  checked: { signature: boolean; proofs: number };
  /** Every failure, one each: `field: what is wrong`. */
  errors: string[];
  /** The failures in a few lines: the report's own, in the order checked, then the failing sample proofs as one. */
  summary: string[];
}

export interface VerifyReportOptions {
  /** Also require the certificate to be signed by this key (raw Ed25519 public key, hex). */
  publicKeyHex?: string;
}

function checkProof(proof: SampleProof, report: VerifiableReport): string[] {
  const errors: string[] = [];
  if (proof.root_hash !== report.merkle_root) errors.push('root_hash differs from merkle_root');
  if (proof.tree_size !== report.total_shards) {
    errors.push(`tree_size ${proof.tree_size} differs from total_shards ${report.total_shards}`);
  }
  if (proof.leaf_index >= proof.tree_size) errors.push(`leaf_index ${proof.leaf_index} is outside a tree of ${proof.tree_size}`);
  try {
    const expected = leafHash(leafData(proof.leaf_cas_id, proof.output_digest)).toString('hex');
    if (proof.leaf_hash !== expected) errors.push('leaf_hash is not the hash of (leaf_cas_id, output_digest)');
  } catch (err) {
    errors.push(`leaf: ${(err as Error).message}`);
  }
  // The path must lead to the report's root, not merely to the proof's own root_hash.
  if (!verifyInclusion({ ...proof, root_hash: report.merkle_root })) errors.push('path does not lead to merkle_root');
  return errors;
}

/** Verifies a parsed REPORT.json of unknown shape; never throws. */
export function verifyReport(input: unknown, opts: VerifyReportOptions = {}): ReportVerification {
  const parsed = reportSchema.safeParse(input);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((issue) => describeIssue('', issue, '(root)'));
    return { ok: false, checked: { signature: false, proofs: 0 }, errors, summary: errors };
  }
  const report = parsed.data;
  const errors: string[] = [];

  if (!report.truth_certified) errors.push('truth_certified: the report does not claim a certified result');

  const cert = verifyCertificate(report.plan_id, report.certificate, opts);
  const signature = cert.ok;
  if (!cert.ok) errors.push(cert.reason ?? 'certificate: invalid');
  if (report.certificate.merkle_root !== report.merkle_root) {
    errors.push('certificate.merkle_root: differs from merkle_root');
  }
  if (report.certificate.total_shards !== report.total_shards) {
    errors.push(`certificate.total_shards: ${report.certificate.total_shards} differs from total_shards ${report.total_shards}`);
  }

  const summary = [...errors];
  let failing = 0;
  let first: string | undefined;
  report.sample_proofs.forEach((proof, i) => {
    const failed = checkProof(proof, report);
    for (const e of failed) errors.push(`sample_proofs[${i}]: ${e}`);
    if (failed.length > 0 && failing++ === 0) first = `sample_proofs[${i}]: ${failed.join('; ')}`;
  });
  const total = report.sample_proofs.length;
  if (first) summary.push(`${failing} of ${total} sample proofs ${failing === 1 ? 'does' : 'do'} not verify against merkle_root (first: ${first})`);

  return { ok: errors.length === 0, checked: { signature, proofs: total - failing }, errors, summary };
}
