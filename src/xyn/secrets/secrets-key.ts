/**
 * XYN_SECRETS_KEY as an AES-256 key. Two forms:
 *
 * - 32 random bytes, as 64 hex digits or as base64 (44 characters with its
 *   `=`; base64url too): used as they are (`openssl rand -hex 32`);
 * - anything else is a passphrase, stretched with scrypt (N=2^15, r=8, p=1)
 *   and a random salt kept in the file, so one passphrase gives each file
 *   its own key and a guess costs ~100 ms.
 *
 * The file says which form wrote it (its `kdf`): a key of the other form
 * cannot open it, which is said as a wrong key.
 */
import { randomBytes, scrypt, type ScryptOptions } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify<string, Buffer, number, ScryptOptions, Buffer>(scrypt);
const KEY_BYTES = 32;
const SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;
// scrypt needs 128·N·r bytes (32 MiB here); node's default cap is exactly that, which it refuses.
const SCRYPT_MAXMEM = 64 * 1024 * 1024;

/** How a file's key is had from XYN_SECRETS_KEY: as it is, or by scrypt with the file's salt. */
export type Kdf = { name: 'none' } | { name: 'scrypt'; salt: string; N: number; r: number; p: number };

/** The 32 bytes a raw key stands for, or undefined when the text is a passphrase. */
export function rawKey(text: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) return Buffer.from(text, 'base64');
  if (/^[A-Za-z0-9_-]{43}$/.test(text)) return Buffer.from(text, 'base64url');
  return undefined;
}

/** The kdf a new file gets for this key: none for a raw key, scrypt with a fresh salt for a passphrase. */
export function newKdf(text: string): Kdf {
  return rawKey(text) ? { name: 'none' } : { name: 'scrypt', salt: randomBytes(16).toString('base64'), ...SCRYPT };
}

/** The AES key for a file of this kdf; undefined when the key's form is not the one the file was written with. */
export async function fileKey(text: string, kdf: Kdf): Promise<Buffer | undefined> {
  const raw = rawKey(text);
  if (kdf.name === 'none') return raw;
  if (raw) return undefined;
  return scryptAsync(text, Buffer.from(kdf.salt, 'base64'), KEY_BYTES, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: SCRYPT_MAXMEM });
}
