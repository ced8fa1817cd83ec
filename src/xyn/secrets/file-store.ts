/**
 * Secrets in one file of the data dir (`<dataDir>/secrets.enc`, DataPaths'
 * secretsFile), encrypted at rest with AES-256-GCM under XYN_SECRETS_KEY
 * (secrets-key.ts). Paths and metadata are inside the ciphertext too: a copy
 * of the file says nothing but its size. The envelope is JSON:
 *
 *   {"format":"xyn-secrets/1","kdf":{"name":"none"},"iv":"…","tag":"…","ciphertext":"…"}
 *
 * with `format` and `kdf` bound to the ciphertext as GCM's associated data,
 * so neither can be swapped. A wrong key fails on the tag
 * (SecretsKeyWrongError), never as garbage; no key fails saying to set it.
 * Each change is written whole to a temp file (mode 0600), fsynced, renamed
 * over the old one and its directory fsynced: a crash leaves the old file or
 * the new, never half of one. Changes in one process go one at a time; across
 * processes the data dir's lock keeps one writer (the node, or the CLI).
 *
 *   const store = new FileSecretStore(config.secretsFile, config.XYN_SECRETS_KEY);
 *   await store.put('deploy-key', pem);
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { canonicalEncode } from '../../core/canonical.ts';
import { systemClock, type Clock } from '../../core/clock.ts';
import { SecretNotFoundError, SecretsFileError, SecretsKeyMissingError, SecretsKeyWrongError } from './errors.ts';
import { secretPath } from './paths.ts';
import { fileKey, newKdf, type Kdf } from './secrets-key.ts';
import type { SecretEntry, SecretMetadata, SecretStore } from './store.ts';

const FORMAT = 'xyn-secrets/1';

const envelopeSchema = z.strictObject({
  format: z.literal(FORMAT),
  kdf: z.discriminatedUnion('name', [
    z.strictObject({ name: z.literal('none') }),
    z.strictObject({ name: z.literal('scrypt'), salt: z.string(), N: z.number().int(), r: z.number().int(), p: z.number().int() }),
  ]),
  iv: z.string(),
  tag: z.string(),
  ciphertext: z.string(),
});
type Envelope = z.infer<typeof envelopeSchema>;

interface StoredSecret {
  value: string;
  metadata: SecretMetadata;
  updated_at: string;
}

/** What the ciphertext holds. */
interface Contents {
  secrets: Record<string, StoredSecret>;
}

/** The file as read: its contents and the kdf to write it again with. */
interface Opened {
  contents: Contents;
  kdf: Kdf;
}

export class FileSecretStore implements SecretStore {
  readonly name: string;
  /** Changes one after another: a put must not write over another's. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Keys derived from a passphrase, by kdf: scrypt is slow on purpose. */
  private readonly keys = new Map<string, Buffer>();

  constructor(
    readonly file: string,
    private readonly key: string | undefined,
    private readonly clock: Clock = systemClock,
  ) {
    this.name = file;
  }

  async get(path: string): Promise<string> {
    secretPath(path);
    const secret = (await this.read())?.contents.secrets[path];
    if (!secret) throw new SecretNotFoundError(path, [`not in ${this.file}`]);
    return secret.value;
  }

  async put(path: string, value: string, metadata: SecretMetadata = {}): Promise<{ created: boolean }> {
    secretPath(path);
    return this.change(({ secrets }) => {
      const created = !Object.hasOwn(secrets, path);
      secrets[path] = { value, metadata, updated_at: new Date(this.clock.now()).toISOString() };
      return { write: true, answer: { created } };
    });
  }

  async delete(path: string): Promise<boolean> {
    secretPath(path);
    return this.change(({ secrets }) => {
      if (!Object.hasOwn(secrets, path)) return { write: false, answer: false };
      delete secrets[path];
      return { write: true, answer: true };
    });
  }

  async list(prefix = ''): Promise<SecretEntry[]> {
    const secrets = (await this.read())?.contents.secrets ?? {};
    return Object.entries(secrets)
      .filter(([path]) => path.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([path, s]) => ({ path, metadata: s.metadata, updated_at: s.updated_at }));
  }

  /** Reads the file, lets `edit` change its contents, and writes it back when told to; one change at a time. */
  private change<T>(edit: (contents: Contents) => { write: boolean; answer: T }): Promise<T> {
    const done = this.queue.then(async () => {
      const key = this.requireKey();
      const opened = (await this.read()) ?? { contents: { secrets: {} }, kdf: newKdf(key) };
      const { write, answer } = edit(opened.contents);
      if (write) await this.write(opened);
      return answer;
    });
    this.queue = done.catch(() => undefined);
    return done;
  }

  private requireKey(): string {
    if (this.key === undefined || this.key === '') throw new SecretsKeyMissingError(this.file);
    return this.key;
  }

  /** The file decrypted; undefined when there is none yet. */
  private async read(): Promise<Opened | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const envelope = this.parse(text);
    const key = await this.keyFor(envelope.kdf);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'));
    decipher.setAAD(associatedData(envelope));
    decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(Buffer.from(envelope.ciphertext, 'base64')), decipher.final()]);
    } catch {
      throw new SecretsKeyWrongError(this.file);
    }
    return { contents: JSON.parse(plain.toString('utf8')) as Contents, kdf: envelope.kdf };
  }

  private parse(text: string): Envelope {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new SecretsFileError(this.file, 'not JSON');
    }
    const parsed = envelopeSchema.safeParse(raw);
    if (!parsed.success) throw new SecretsFileError(this.file, `not the ${FORMAT} format`);
    return parsed.data;
  }

  private async keyFor(kdf: Kdf): Promise<Buffer> {
    const text = this.requireKey();
    const id = JSON.stringify(kdf);
    const cached = this.keys.get(id);
    if (cached) return cached;
    const key = await fileKey(text, kdf);
    if (!key) throw new SecretsKeyWrongError(this.file);
    this.keys.set(id, key);
    return key;
  }

  private async write(opened: Opened): Promise<void> {
    const key = await this.keyFor(opened.kdf);
    const iv = randomBytes(12);
    const head = { format: FORMAT, kdf: opened.kdf } as const;
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(associatedData(head));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(opened.contents), 'utf8'), cipher.final()]);
    const envelope: Envelope = { ...head, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64') };
    await writeAtomically(this.file, `${JSON.stringify(envelope)}\n`);
  }
}

/** What GCM authenticates besides the ciphertext: the format and how the key is had (canonical bytes: key order in the file does not matter). */
function associatedData(head: Pick<Envelope, 'format' | 'kdf'>): Uint8Array {
  return canonicalEncode({ format: head.format, kdf: head.kdf });
}

/** `text` as the file's whole content, or the old content if anything fails: temp file (0600), fsync, rename, fsync of the directory. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
