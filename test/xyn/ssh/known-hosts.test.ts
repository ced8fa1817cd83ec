/** The node's known_hosts against OpenSSH's own tools: trust on first use, a changed key refused with its line, hashed names, one pin under concurrency. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KnownHostsFile, SshHostKeyChangedError, fingerprintOf } from '../../../src/xyn/ssh/index.ts';
import { tempDir } from '../../kernel/helpers.ts';

let dir: ReturnType<typeof tempDir>;
let file: string;
beforeEach(() => {
  dir = tempDir();
  file = join(dir.path, 'known_hosts');
});
afterEach(() => dir.cleanup());

/** A fresh host key made by ssh-keygen: its wire blob, its public line, and the fingerprint ssh-keygen prints. */
function hostKey(name: string, type = 'ed25519'): { blob: Buffer; pub: string; fingerprint: string } {
  const path = join(dir.path, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', path], { stdio: 'ignore' });
  const pub = readFileSync(`${path}.pub`, 'utf8');
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`], { encoding: 'utf8' }).split(' ')[1] as string;
  return { blob: Buffer.from(pub.split(' ')[1] as string, 'base64'), pub, fingerprint };
}

describe('KnownHostsFile', () => {
  it('pins the first key a host offers, in OpenSSH form, then knows it', async () => {
    const key = hostKey('a');
    const hosts = new KnownHostsFile(file);
    expect(await hosts.verify('db1.example', 2222, key.blob)).toEqual({ outcome: 'pinned', fingerprint: key.fingerprint, key_type: 'ssh-ed25519' });
    expect(await hosts.verify('db1.example', 2222, key.blob)).toMatchObject({ outcome: 'known' });
    expect(fingerprintOf(key.blob)).toBe(key.fingerprint);
    expect(readFileSync(file, 'utf8')).toBe(`[db1.example]:2222 ${key.pub.split(' ').slice(0, 2).join(' ')}\n`);
    expect(execFileSync('ssh-keygen', ['-F', '[db1.example]:2222', '-f', file], { encoding: 'utf8' })).toContain('ssh-ed25519');
    // Port 22 is written as OpenSSH writes it: the bare host.
    await hosts.verify('db1.example', 22, key.blob);
    expect(readFileSync(file, 'utf8').split('\n')[1]).toMatch(/^db1\.example ssh-ed25519 /);
    expect(readdirSync(dir.path).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it("refuses a changed key naming both fingerprints and the line to remove, past an operator's comments and other hosts", async () => {
    const old = hostKey('old');
    const other = hostKey('other');
    const changed = hostKey('new');
    writeFileSync(file, `# hosts we trust\n\nweb1 ${other.pub.trim()}\n[db1]:2222 ${old.pub.trim()}`);
    const hosts = new KnownHostsFile(file);
    const err = await hosts.verify('db1', 2222, changed.blob).then(
      () => expect.fail('a changed key was accepted'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SshHostKeyChangedError);
    expect((err as SshHostKeyChangedError).details).toEqual({ host: 'db1', port: 2222, pinned_fingerprint: old.fingerprint, offered_fingerprint: changed.fingerprint, file, line: 4 });
    expect((err as Error).message).toContain(`remove line 4 of ${file}`);
    // A pin appended to a file that does not end in a newline starts a line of its own.
    await hosts.verify('db2', 22, changed.blob);
    expect(readFileSync(file, 'utf8').split('\n').slice(3)).toEqual([`[db1]:2222 ${old.pub.trim()}`, `db2 ssh-ed25519 ${changed.blob.toString('base64')}`, '']);
  });

  it('matches hashed host names (HashKnownHosts) and comma-separated ones', async () => {
    const key = hostKey('k');
    const changed = hostKey('c');
    writeFileSync(file, `[db1]:2222 ${key.pub}alias,db3 ${key.pub}`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    expect(readFileSync(file, 'utf8')).not.toContain('db1');
    const hosts = new KnownHostsFile(file);
    expect(await hosts.verify('db1', 2222, key.blob)).toMatchObject({ outcome: 'known' });
    await expect(hosts.verify('db1', 2222, changed.blob)).rejects.toMatchObject({ code: 'SSH_HOST_KEY_CHANGED' });
    expect(await hosts.verify('db3', 22, key.blob)).toMatchObject({ outcome: 'known' });
  });

  it('pins one key when checks of a new host come at once', async () => {
    const first = hostKey('first');
    const second = hostKey('second');
    const hosts = new KnownHostsFile(file);
    const results = await Promise.allSettled([hosts.verify('h', 22, first.blob), hosts.verify('h', 22, second.blob), hosts.verify('h', 22, first.blob)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
