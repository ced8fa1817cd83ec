/**
 * The node's `known_hosts`: the SSH host keys it trusts, in a file of the
 * data dir that OpenSSH reads and writes too (`[host]:port keytype base64`,
 * `host keytype base64` for port 22), so an operator can read it, pre-fill
 * it from their own `~/.ssh/known_hosts`, or remove a line with
 * `ssh-keygen -R '[host]:port' -f <file>`.
 *
 * Trust on first use: a host with no line gets the key it offers pinned (a
 * line appended); later, only a key of its lines is accepted, any other is
 * refused with SSH_HOST_KEY_CHANGED naming the line to remove. Host names
 * are matched exactly, also in hashed form (`|1|salt|hash`, as
 * `HashKnownHosts yes` writes them); wildcard and negated patterns, and
 * `@cert-authority` / `@revoked` lines, are not understood and are skipped.
 *
 * The file is read at every check (an operator's edit counts at once) and
 * rewritten whole to a temp file, fsynced and renamed over it: a reader never
 * sees half a line. Checks go one at a time, so two steps meeting a new host
 * at once pin one key.
 *
 *   const knownHosts = new KnownHostsFile(join(dataDir, 'known_hosts'));
 *   await knownHosts.verify('10.0.0.5', 22, keyBlob); // { outcome: 'pinned', fingerprint: 'SHA256:…', key_type: 'ssh-ed25519' }
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { HostKeyCheck, KnownHostsPort } from '../actions/action.ts';
import { SshHostKeyChangedError } from './errors.ts';

interface KnownLine {
  /** 1-based, as an editor shows it. */
  line: number;
  keyType: string;
  keyBase64: string;
}

/** A host key's SHA-256 fingerprint as OpenSSH prints it: `SHA256:` and unpadded base64. */
export function fingerprintOf(key: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type a key blob starts with (its first SSH string: 'ssh-ed25519', 'rsa-sha2-512' keys say 'ssh-rsa'). */
function keyTypeOf(key: Uint8Array): string {
  const buf = Buffer.from(key);
  const length = buf.length >= 4 ? buf.readUInt32BE(0) : 0;
  return buf.subarray(4, 4 + length).toString('latin1') || 'unknown';
}

/** How known_hosts names host:port. */
export function hostEntryName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Whether one comma-separated host field of a line names `name` (plainly, or hashed as `|1|salt|hash`). */
function namesHost(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [salt, hash] = field.slice(3).split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  return field.split(',').some((pattern) => pattern === name);
}

function linesFor(text: string, name: string): KnownLine[] {
  const found: KnownLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('@')) return;
    const [hosts, keyType, keyBase64] = line.split(/\s+/);
    if (hosts && keyType && keyBase64 && namesHost(hosts, name)) found.push({ line: i + 1, keyType, keyBase64 });
  });
  return found;
}

export class KnownHostsFile implements KnownHostsPort {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly file: string) {}

  verify(host: string, port: number, key: Uint8Array): Promise<HostKeyCheck> {
    const check = this.queue.then(() => this.check(host, port, key));
    this.queue = check.catch(() => undefined);
    return check;
  }

  private async check(host: string, port: number, key: Uint8Array): Promise<HostKeyCheck> {
    const name = hostEntryName(host, port);
    const offered = { fingerprint: fingerprintOf(key), key_type: keyTypeOf(key), base64: Buffer.from(key).toString('base64') };
    const text = await this.read();
    const known = linesFor(text, name);
    if (known.length === 0) {
      await this.write(`${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${name} ${offered.key_type} ${offered.base64}\n`);
      return { outcome: 'pinned', fingerprint: offered.fingerprint, key_type: offered.key_type };
    }
    if (known.some((k) => k.keyBase64 === offered.base64)) return { outcome: 'known', fingerprint: offered.fingerprint, key_type: offered.key_type };
    const pinned = known.find((k) => k.keyType === offered.key_type) ?? (known[0] as KnownLine);
    throw new SshHostKeyChangedError({
      host,
      port,
      pinned_fingerprint: fingerprintOf(Buffer.from(pinned.keyBase64, 'base64')),
      offered_fingerprint: offered.fingerprint,
      file: this.file,
      line: pinned.line,
    });
  }

  private async read(): Promise<string> {
    try {
      return await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
  }

  /** Replaces the file with `text`: a temp file beside it, fsynced, renamed over it, the directory fsynced. */
  private async write(text: string): Promise<void> {
    const tmp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const handle = await open(tmp, 'wx', 0o644);
      try {
        await handle.writeFile(text, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    const dir = await open(dirname(this.file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
