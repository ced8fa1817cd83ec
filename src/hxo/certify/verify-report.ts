/**
 * Offline verification of a plan report (`xyn verify REPORT.json`): no data
 * directory, no node, just the report's own fields and arithmetic.
 *
 * - the certificate is a valid Ed25519 signature over this plan_id, its
 *   merkle_root, total_shards and timestamp, and agrees with the report;
 * - every sample proof is a leaf of exactly this tree: its leaf_hash is the hash
 *   of (leaf_cas_id, output_digest) and its RFC 9162 path leads to merkle_root.
 *
 * The checks themselves are report-checks.ts's (the browser runs them too);
 * this folds them into what `xyn verify` and the SDK answer. Every failure is
 * listed with the field it concerns, e.g.
 * `sample_proofs[3]: path does not lead to merkle_root`; nothing throws.
 * One changed digit of the root fails every proof, so `summary` says the
 * same in a few lines, what `xyn verify` prints: the report's own failures
 * (signature, root), then the failing proofs as one count naming the first.
 */
import { checkReport, describeFailure, type CheckOptions } from './report-checks.ts';

export { reportSchema, type SampleProof, type VerifiableReport } from './report-checks.ts';

export interface ReportVerification {
  ok: boolean;
  /** signature: the certificate's signature holds; proofs: how many sample proofs passed every check. */
  checked: { signature: boolean; proofs: number };
  /** Every failure, one each: `field: what is wrong`. */
  errors: string[];
  /** The failures in a few lines: the report's own, in the order checked, then the failing sample proofs as one. */
  summary: string[];
}

export type VerifyReportOptions = CheckOptions;

/** Verifies a parsed REPORT.json of unknown shape; never throws. */
export function verifyReport(input: unknown, opts: VerifyReportOptions = {}): ReportVerification {
  const result = checkReport(input, opts);
  if (!result.shaped) return { ok: false, checked: { signature: false, proofs: 0 }, errors: result.problems, summary: result.problems };

  const failed = result.checks.filter((c) => c.problems.length > 0);
  // A certificate is one finding: its first failing check (id, expected key, signature), as verifyCertificate says.
  const certificate = failed.find((c) => c.kind === 'certificate');
  const errors = failed.filter((c) => c.kind === 'report' || c === certificate).map(describeFailure);
  const summary = [...errors];
  const proofs = failed.filter((c) => c.kind === 'proof');
  for (const proof of proofs) errors.push(...proof.problems.map((p) => `${proof.field}: ${p}`));
  const total = result.report.sample_proofs.length;
  const [first] = proofs;
  if (first) summary.push(`${proofs.length} of ${total} sample proofs ${proofs.length === 1 ? 'does' : 'do'} not verify against merkle_root (first: ${describeFailure(first)})`);

  return { ok: errors.length === 0, checked: { signature: certificate === undefined, proofs: total - proofs.length }, errors, summary };
}
