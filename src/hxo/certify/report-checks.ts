/**
 * Every check of a plan report, in one module that runs anywhere: in Node
 * (`xyn verify`, the SDK, certification) and in a browser (the verify page's
 * Web Worker), so a third party's browser checks a report with the very code
 * `xyn verify` runs. Hence no Node import: bytes are Uint8Arrays, SHA-256
 * comes from @noble/hashes and Ed25519 from @noble/curves (a report holds a
 * few dozen proofs; the native hashing of merkle.ts is for building trees).
 *
 * `checkReport` lists the checks one by one, each with what it claims and
 * what is wrong when it fails:
 *
 *   const result = checkReport(JSON.parse(text));
 *   if (result.shaped) for (const c of result.checks) console.log(c.field, c.problems.length === 0);
 *
 * verify-report.ts folds that list into `xyn verify`'s errors and summary.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
// A namespace import lets the browser's bundle keep only the zod it uses (90 KB, not 450).
import * as z from 'zod';
import { describeIssue } from '../../core/errors.ts';
import { MerkleInputError } from '../errors.ts';

const hex = (chars: number) => z.string().regex(new RegExp(`^[0-9a-f]{${chars}}$`), `expected ${chars} lowercase hex characters`);
const hex64 = hex(64);

export const certificateSchema = z.object({
  certified: z.literal(true),
  certificate_id: z.string(),
  timestamp: z.iso.datetime({ message: 'expected an ISO-8601 UTC timestamp' }),
  merkle_root: hex64,
  total_shards: z.number().int().nonnegative(),
  signature: hex(128),
  public_key: hex64,
});

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

export type Certificate = z.infer<typeof certificateSchema>;
export type SampleProof = z.infer<typeof proofSchema>;
export type VerifiableReport = z.infer<typeof reportSchema>;

export interface CheckOptions {
  /** Also require the certificate to be signed by this key (raw Ed25519 public key, hex). */
  publicKeyHex?: string;
}

/** One check of a report: it passes when `problems` is empty. */
export interface ReportCheck {
  /** Which part of the report it checks: the certificate's checks, the report's own, or one sample proof. */
  kind: 'certificate' | 'report' | 'proof';
  /** The field it concerns, as its errors name it: `certificate.signature`, `sample_proofs[3]`. */
  field: string;
  /** What passing means, in plain words. */
  claim: string;
  /** What is wrong, each without the field; empty when it passes. */
  problems: string[];
}

/** The report's shape is wrong (`problems`: each `field: what is wrong`), or every check of a well-shaped report. */
export type ReportChecks = { shaped: false; problems: string[] } | { shaped: true; report: VerifiableReport; checks: ReportCheck[] };

// ---- bytes and hashes (RFC 9162 §2.1.1; merkle.ts builds the trees these check) ----

const CAS_ID_RE = /^[0-9a-f]{16}$/;
const DIGEST_RE = /^[0-9a-f]{64}$/;
const ANY_CASE_HASH_RE = /^[0-9a-fA-F]{64}$/;
const PUBLIC_KEY_RE = /^[0-9a-fA-F]{64}$/;
const SIGNATURE_RE = /^[0-9a-fA-F]{128}$/;
const LEAF_PREFIX = Uint8Array.of(0x00);

/** Throws MerkleInputError unless `casId` is a shard's cas_id: 16 lowercase hex characters. */
export function checkCasId(casId: string): void {
  if (typeof casId !== 'string' || !CAS_ID_RE.test(casId)) {
    throw new MerkleInputError('cas_id', `must be 16 lowercase hex characters, got ${JSON.stringify(casId)}`);
  }
}

/** Throws MerkleInputError unless `digestHex` is a sha256 in lowercase hex. */
export function checkDigest(digestHex: string): void {
  if (typeof digestHex !== 'string' || !DIGEST_RE.test(digestHex)) {
    throw new MerkleInputError('output_digest', `must be 64 lowercase hex characters (a sha256), got ${JSON.stringify(digestHex)}`);
  }
}

/** sha256(0x00 ‖ cas_id ‖ output_digest) in hex: the hash of a shard's leaf. */
function leafHashHex(casId: string, digestHex: string): string {
  checkCasId(casId);
  checkDigest(digestHex);
  return bytesToHex(sha256(concatBytes(LEAF_PREFIX, utf8ToBytes(casId), hexToBytes(digestHex))));
}

// Every inner node hashes 0x01 ‖ left ‖ right: assembled in one reused buffer (all of this is synchronous).
const nodeInput = new Uint8Array(65);
nodeInput[0] = 0x01;

/** sha256(0x01 ‖ left ‖ right): an inner node (RFC 9162 §2.1.1). */
function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeInput.set(left, 1);
  nodeInput.set(right, 33);
  return sha256(nodeInput);
}

function parseHash(value: unknown): Uint8Array | undefined {
  return typeof value === 'string' && ANY_CASE_HASH_RE.test(value) ? hexToBytes(value) : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Checks an inclusion proof with RFC 9162 §2.1.3.2: the path must have exactly
 * the length and shape that `leaf_index` and `tree_size` imply, every `side`
 * must be the one the algorithm puts the sibling on, and hashing up from
 * `leaf_hash` must give `root_hash`. Anything malformed is `false`, never a throw.
 */
export function verifyInclusion(proof: unknown): boolean {
  try {
    if (!isRecord(proof)) return false;
    const { leaf_index: index, tree_size: size, path } = proof;
    if (typeof index !== 'number' || typeof size !== 'number') return false;
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
    const leaf = parseHash(proof.leaf_hash);
    const root = parseHash(proof.root_hash);
    if (leaf === undefined || root === undefined || !Array.isArray(path)) return false;

    let fn = index;
    let sn = size - 1;
    let r = leaf;
    for (const step of path as unknown[]) {
      if (sn === 0 || !isRecord(step)) return false;
      const sibling = parseHash(step.hash);
      if (sibling === undefined) return false;
      if (fn % 2 === 1 || fn === sn) {
        if (step.side !== 'left') return false;
        r = nodeHash(sibling, r);
        // A last node with no right sibling is promoted unchanged: skip its levels.
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      } else {
        if (step.side !== 'right') return false;
        r = nodeHash(r, sibling);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && bytesToHex(r) === bytesToHex(root);
  } catch {
    return false;
  }
}

/** True iff `signatureHex` is a valid Ed25519 signature (RFC 8032, strict) of `bytes` by the raw key `publicKeyHex`; never throws. */
export function verifySignature(publicKeyHex: unknown, bytes: Uint8Array, signatureHex: unknown): boolean {
  try {
    if (typeof publicKeyHex !== 'string' || !PUBLIC_KEY_RE.test(publicKeyHex)) return false;
    if (typeof signatureHex !== 'string' || !SIGNATURE_RE.test(signatureHex)) return false;
    return ed25519.verify(hexToBytes(signatureHex), bytes, hexToBytes(publicKeyHex), { zip215: false });
  } catch {
    return false;
  }
}

// ---- certificates (certificate.ts issues them) ----

/** The text a certificate signs (its UTF-8 bytes): `xyn-cert-v1\n{plan_id}\n{merkle_root}\n{total_shards}\n{timestamp}`. */
export function certificateText(planId: string, merkleRoot: string, totalShards: number, timestamp: string): string {
  return `xyn-cert-v1\n${planId}\n${merkleRoot}\n${totalShards}\n${timestamp}`;
}

export function certificateId(planId: string, merkleRoot: string): string {
  return `cert_${planId.slice(0, 8)}_${merkleRoot.slice(0, 12)}`;
}

/** The certificate's own checks, in the order `xyn verify` reports the first failing one: its id, the expected key, its signature. */
function certificateChecks(planId: string, c: Certificate, opts: CheckOptions): ReportCheck[] {
  const check = (field: string, claim: string, problem: string | false): ReportCheck => ({ kind: 'certificate', field, claim, problems: problem ? [problem] : [] });
  const expectedId = certificateId(planId, c.merkle_root);
  const checks = [check('certificate.certificate_id', `the certificate's id is ${expectedId}`, c.certificate_id !== expectedId && `${JSON.stringify(c.certificate_id)} should be ${JSON.stringify(expectedId)}`)];
  const expectedKey = opts.publicKeyHex;
  if (expectedKey !== undefined) {
    const wrongKey = c.public_key !== expectedKey.toLowerCase() && `signed by ${c.public_key}, not by the expected key ${expectedKey}`;
    checks.push(check('certificate.public_key', `the certificate is signed by the expected key ${expectedKey}`, wrongKey));
  }
  const signed = verifySignature(c.public_key, utf8ToBytes(certificateText(planId, c.merkle_root, c.total_shards, c.timestamp)), c.signature);
  const claim = `an Ed25519 signature by the public key ${c.public_key} over this plan_id, merkle_root, total_shards and timestamp`;
  checks.push(check('certificate.signature', claim, !signed && 'not a valid signature by certificate.public_key over this plan_id, merkle_root, total_shards and timestamp'));
  return checks;
}

/** A check's failure as one line: `field: problem; problem`. */
export function describeFailure(check: ReportCheck): string {
  return `${check.field}: ${check.problems.join('; ')}`;
}

export interface CertificateCheck {
  ok: boolean;
  reason?: string;
}

/**
 * Checks that `cert` is well-formed, names `planId`, and is signed by the key it
 * carries (and, with `publicKeyHex`, that this is that key). Never throws.
 */
export function verifyCertificate(planId: string, cert: unknown, opts: CheckOptions = {}): CertificateCheck {
  const parsed = certificateSchema.safeParse(cert);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: issue ? describeIssue('certificate', issue) : 'certificate: invalid' };
  }
  if (typeof planId !== 'string') return { ok: false, reason: 'plan_id: expected a string' };
  const failed = certificateChecks(planId, parsed.data, opts).find((c) => c.problems.length > 0);
  return failed ? { ok: false, reason: describeFailure(failed) } : { ok: true };
}

// ---- the report ----

function proofCheck(proof: SampleProof, index: number, report: VerifiableReport): ReportCheck {
  const problems: string[] = [];
  if (proof.root_hash !== report.merkle_root) problems.push('root_hash differs from merkle_root');
  if (proof.tree_size !== report.total_shards) problems.push(`tree_size ${proof.tree_size} differs from total_shards ${report.total_shards}`);
  if (proof.leaf_index >= proof.tree_size) problems.push(`leaf_index ${proof.leaf_index} is outside a tree of ${proof.tree_size}`);
  try {
    if (proof.leaf_hash !== leafHashHex(proof.leaf_cas_id, proof.output_digest)) problems.push('leaf_hash is not the hash of (leaf_cas_id, output_digest)');
  } catch (err) {
    problems.push(`leaf: ${(err as Error).message}`);
  }
  // The path must lead to the report's root, not merely to the proof's own root_hash.
  if (!verifyInclusion({ ...proof, root_hash: report.merkle_root })) problems.push('path does not lead to merkle_root');
  const claim = `shard ${proof.leaf_index} (${proof.leaf_cas_id}): its leaf_hash is the hash of (leaf_cas_id, output_digest) and its path leads to merkle_root`;
  return { kind: 'proof', field: `sample_proofs[${index}]`, claim, problems };
}

/** Every check of a parsed REPORT.json of unknown shape, in the order `xyn verify` reports them; never throws. */
export function checkReport(input: unknown, opts: CheckOptions = {}): ReportChecks {
  const parsed = reportSchema.safeParse(input);
  if (!parsed.success) return { shaped: false, problems: parsed.error.issues.map((issue) => describeIssue('', issue, '(root)')) };
  const report = parsed.data;
  const { certificate } = report;
  const own = (field: string, claim: string, problem: string | false): ReportCheck => ({ kind: 'report', field, claim, problems: problem ? [problem] : [] });
  const checks = [
    own('truth_certified', 'the report claims a certified result', !report.truth_certified && 'the report does not claim a certified result'),
    ...certificateChecks(report.plan_id, certificate, opts),
    own('certificate.merkle_root', 'the certificate signs the report\'s merkle_root', certificate.merkle_root !== report.merkle_root && 'differs from merkle_root'),
    own(
      'certificate.total_shards',
      'the certificate signs the report\'s total_shards',
      certificate.total_shards !== report.total_shards && `${certificate.total_shards} differs from total_shards ${report.total_shards}`,
    ),
    ...report.sample_proofs.map((proof, i) => proofCheck(proof, i, report)),
  ];
  return { shaped: true, report, checks };
}
