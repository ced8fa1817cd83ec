/**
 * Errors of the HXO certification primitives (Merkle trees, node key,
 * certificates). Each names the input that broke a rule, so a caller that hands
 * a bad digest or a broken key file learns which one and why.
 */
import { XynError, registerErrorClass } from '../core/errors.ts';

/** A Merkle input out of shape: a digest that is not hex, a range out of bounds... `field` names it. */
export class MerkleInputError extends XynError {
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super(`${field}: ${rule}`, 'MERKLE_INPUT', { field, rule });
  }
}

/** The node's key file could not be created or read, or holds something other than an Ed25519 key. */
export class NodeKeyError extends XynError {
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`node key ${path}: ${reason}`, 'NODE_KEY', { path, reason }, options);
  }
}

/** A certificate cannot be issued over these fields; `field` names the one that is wrong. */
export class CertificateInputError extends XynError {
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super(`${field}: ${rule}`, 'CERTIFICATE_INPUT', { field, rule });
  }
}

registerErrorClass(MerkleInputError);
registerErrorClass(NodeKeyError);
registerErrorClass(CertificateInputError);
