/**
 * The node's Ed25519 identity, which signs plan certificates.
 *
 * - The private key lives in `DATA_DIR/keys/node.ed25519.pem` (PKCS#8 PEM,
 *   mode 0600, directory 0700), created on first use and loaded afterwards, so
 *   a node keeps one public key across restarts.
 * - Creation is atomic: the key is written to a private temp file and
 *   hard-linked into place, so two processes starting on the same data dir
 *   agree on one key and no reader ever sees a half-written file.
 * - `verifySignature` needs only the raw 32-byte public key (hex) and never
 *   throws, so an offline verifier can feed it untrusted report fields.
 *
 *   const key = loadOrCreateNodeKey(dataDir);
 *   const sig = key.sign(bytes);
 *   verifySignature(key.publicKeyHex, bytes, sig); // true
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { NodeKeyError } from '../errors.ts';

// Checking a signature needs no Node (the browser does it too): report-checks.ts.
export { verifySignature } from './report-checks.ts';

export interface NodeKey {
  /** The raw 32-byte Ed25519 public key, hex (64 chars). */
  readonly publicKeyHex: string;
  /** Where the private key is stored. */
  readonly path: string;
  /** Ed25519 signature of `bytes`, hex (128 chars). */
  sign(bytes: Uint8Array): string;
}

export function nodeKeyPath(dataDir: string): string {
  return path.join(dataDir, 'keys', 'node.ed25519.pem');
}

function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Writes a fresh key to a temp file and links it into place; EEXIST means another process won. */
function createKeyFile(file: string): void {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeFileSync(fd, pem);
    fs.fchmodSync(fd, 0o600); // the umask may have taken bits off, never put them on; be exact anyway
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function loadKeyFile(file: string): KeyObject {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new NodeKeyError(file, `cannot read: ${(err as Error).message}`, { cause: err });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new NodeKeyError(file, `not a PEM private key: ${(err as Error).message}`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new NodeKeyError(file, `holds a ${key.asymmetricKeyType ?? 'unknown'} key, expected ed25519`);
  }
  return key;
}

/** Loads the node key from `DATA_DIR/keys/`, creating it (and the directory) on first call. */
export function loadOrCreateNodeKey(dataDir: string): NodeKey {
  const file = nodeKeyPath(dataDir);
  const dir = path.dirname(file);
  try {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 }); // only keys/ is private, not the data dir
    if (!fs.existsSync(file)) createKeyFile(file);
  } catch (err) {
    if (err instanceof NodeKeyError) throw err;
    throw new NodeKeyError(file, `cannot create: ${(err as Error).message}`, { cause: err });
  }
  const privateKey = loadKeyFile(file);
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new NodeKeyError(file, 'public key has no raw form');
  const publicKeyHex = Buffer.from(jwk.x, 'base64url').toString('hex');
  return {
    publicKeyHex,
    path: file,
    sign: (bytes: Uint8Array): string => sign(null, bytes, privateKey).toString('hex'),
  };
}
