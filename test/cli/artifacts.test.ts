/**
 * `xyn artifacts list|download` as real processes against a real `xyn
 * serve`, its artifacts uploaded through the SDK (a streamed upload, and one
 * of a run): listed by run and kind, downloaded to a file or stdout byte for
 * byte; exit 2 for bad input and what the node refuses.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { XynClient } from '../../src/sdk/client.ts';
import { ApiRefusedError } from '../../src/sdk/http.ts';
import { servePerSuite, xynSync } from '../helpers/cli.ts';

const suite = servePerSuite({ XYN_ARTIFACT_MAX_BYTES: String(4 * 1024 * 1024) });
const RUN = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

const remote = () => ['--url', suite.serve.url, '--token', suite.admiral];
const xyn = (args: string[]) => xynSync([...args, ...remote()]);
const node = () => new XynClient({ url: suite.serve.url, token: suite.admiral });

async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

describe('xyn artifacts, and client.artifacts', () => {
  it('uploads a stream, lists it by run and kind, downloads it by range and whole', async () => {
    const bytes = randomBytes(2 * 1024 * 1024 + 7);
    const a = await node().artifacts.upload(pieces(bytes, 100_000), { name: 'dump.bin', kind: 'bundle', runId: RUN, stepId: 'dump', metadata: { host: 'web-1' } });
    expect(a).toMatchObject({ name: 'dump.bin', kind: 'bundle', run_id: RUN, step_id: 'dump', byte_length: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), metadata: { host: 'web-1' } });
    const note = await node().artifacts.upload('just a note\n', { name: 'note.txt', contentType: 'text/plain' });
    expect(await node().artifacts.get(note.artifact_id)).toEqual(note);
    // Past XYN_ARTIFACT_MAX_BYTES: refused as it streams, and the SDK says what the node refused.
    const refused = await node()
      .artifacts.upload(pieces(randomBytes(5 * 1024 * 1024), 256 * 1024), { name: 'big.bin' })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ApiRefusedError);
    expect(refused).toMatchObject({ status: 413, apiCode: 'artifact_too_large' });

    const part = await node().artifacts.download(a.artifact_id, { range: { start: 10, end: 19 } });
    const got: Uint8Array[] = [];
    for await (const p of part.body) got.push(p);
    expect(Buffer.concat(got).equals(bytes.subarray(10, 20))).toBe(true);
    expect(part.length).toBe(10);

    const listed = xyn(['artifacts', 'list', '--run', RUN]);
    expect(listed.stderr).toBe('');
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain(a.artifact_id);
    expect(listed.stdout).not.toContain(note.artifact_id);
    const byKind = xyn(['artifacts', 'list', '--kind', 'file', '--json']);
    expect((JSON.parse(byKind.stdout) as { items: { artifact_id: string }[] }).items.map((i) => i.artifact_id)).toEqual([note.artifact_id]);

    const file = join(suite.dir, 'dump.bin');
    const downloaded = xyn(['artifacts', 'download', a.artifact_id, '-o', file]);
    expect(downloaded.status, downloaded.stderr).toBe(0);
    expect(readFileSync(file).equals(bytes)).toBe(true);
    const printed = xyn(['artifacts', 'download', note.artifact_id]);
    expect(printed.stdout).toBe('just a note\n');
  }, 60_000);

  it('refuses bad input with exit 2', () => {
    const badId = xyn(['artifacts', 'download', 'not-an-id']);
    expect(badId.status).toBe(2);
    expect(badId.stderr).toMatch(/an artifact id is a UUID/);
    const badKind = xyn(['artifacts', 'list', '--kind', 'Log!']);
    expect(badKind.status).toBe(2);
    const unknown = xyn(['artifacts', 'download', RUN]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/404 not_found: no artifact/);
  }, 60_000);
});
