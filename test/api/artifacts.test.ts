/**
 * Artifacts over HTTP against a real serving node (gate, uWS, LMDB, CAS):
 * uploaded raw, multipart and in two steps; listed, read and downloaded
 * whole or by range; refused at their limits as they stream, leaving
 * nothing behind — nor when the client goes away mid-upload.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../kernel/helpers.ts';
import { artifactNodes, generated, streamUpload, type ArtifactNode } from './artifact-node.ts';

const MiB = 1024 * 1024;
const start = artifactNodes();
let n: ArtifactNode;
beforeAll(async () => {
  n = await start({ XYN_ARTIFACT_MAX_BYTES: String(8 * MiB) });
});

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function call(method: string, path: string, init: { token?: string; body?: string | Uint8Array | FormData; headers?: Record<string, string> } = {}): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(n.url + path, { method, headers: { authorization: `Bearer ${init.token ?? n.operator}`, ...init.headers }, ...(init.body !== undefined ? { body: init.body } : {}) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

async function upload(bytes: Uint8Array, query: string, contentType = 'application/octet-stream'): Promise<Record<string, unknown>> {
  const res = await call('POST', `/api/v1/artifacts?${query}`, { body: bytes, headers: { 'content-type': contentType } });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json;
}

async function download(id: string, headers: Record<string, string> = {}): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const res = await fetch(`${n.url}/api/v1/artifacts/${id}/download`, { headers: { authorization: `Bearer ${n.viewer}`, ...headers } });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

describe('upload and read back', () => {
  it('a raw upload is kept with its metadata and served back byte for byte with its headers', async () => {
    const body = Buffer.from('hello, artifacts\n');
    const a = await upload(body, 'name=hello.txt&kind=report&metadata=%7B%22lines%22%3A1%7D', 'text/plain; charset=utf-8');
    expect(a).toMatchObject({ name: 'hello.txt', kind: 'report', content_type: 'text/plain; charset=utf-8', byte_length: body.length, sha256: sha256(body), created_by: 'ana', metadata: { lines: 1 }, status: 'ready', run_id: null });
    const got = await call('GET', `/api/v1/artifacts/${a.artifact_id as string}`, { token: n.viewer });
    expect(got.json).toEqual(a);
    const dl = await download(a.artifact_id as string);
    expect(dl.status).toBe(200);
    expect(dl.bytes.equals(body)).toBe(true);
    expect(dl.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(dl.headers.get('content-length')).toBe(String(body.length));
    expect(dl.headers.get('etag')).toBe(`"${sha256(body)}"`);
    expect(dl.headers.get('accept-ranges')).toBe('bytes');
    const head = await fetch(`${n.url}/api/v1/artifacts/${a.artifact_id as string}/download`, { method: 'HEAD', headers: { authorization: `Bearer ${n.viewer}` } });
    expect([head.status, head.headers.get('content-length'), head.headers.get('etag'), await head.text()]).toEqual([200, String(body.length), `"${sha256(body)}"`, '']);
  });

  it('an artifact of several chunks is served by ranges, across chunk boundaries, with 416 past its end', async () => {
    const body = randomBytes(3 * MiB + 12345);
    const a = await upload(body, 'name=blob.bin');
    const id = a.artifact_id as string;
    expect(a.sha256).toBe(sha256(body));
    const whole = await download(id);
    expect(whole.bytes.equals(body)).toBe(true);

    const across = await download(id, { range: `bytes=${MiB - 10}-${2 * MiB + 9}` });
    expect(across.status).toBe(206);
    expect(across.headers.get('content-range')).toBe(`bytes ${MiB - 10}-${2 * MiB + 9}/${body.length}`);
    expect(across.bytes.equals(body.subarray(MiB - 10, 2 * MiB + 10))).toBe(true);

    const tail = await download(id, { range: 'bytes=-100' });
    expect(tail.status).toBe(206);
    expect(tail.bytes.equals(body.subarray(body.length - 100))).toBe(true);

    const open = await download(id, { range: `bytes=${3 * MiB}-` });
    expect(open.bytes.equals(body.subarray(3 * MiB))).toBe(true);

    const past = await download(id, { range: `bytes=${body.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${body.length}`);
    expect((JSON.parse(past.bytes.toString()) as { error: { code: string } }).error.code).toBe('range_not_satisfiable');
  });

  it('a multipart upload takes its metadata field, then streams its file part', async () => {
    const form = new FormData();
    form.append('metadata', JSON.stringify({ name: 'notes.md', kind: 'report', metadata: { source: 'form' } }));
    form.append('file', new Blob(['# notes\n'], { type: 'text/markdown' }), 'ignored.md');
    const res = await call('POST', '/api/v1/artifacts', { body: form });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(res.json).toMatchObject({ name: 'notes.md', kind: 'report', content_type: 'text/markdown', byte_length: 8, metadata: { source: 'form' } });
    expect((await download(res.json.artifact_id as string)).bytes.toString()).toBe('# notes\n');

    const late = new FormData();
    late.append('file', new Blob(['x']), 'x.txt');
    late.append('metadata', '{}');
    const refused = await call('POST', '/api/v1/artifacts', { body: late });
    expect(refused.status).toBe(400);
    expect((refused.json.error as { message: string }).message).toMatch(/metadata.*before the "file" part/);
  });

  it('two steps: a create request answers an upload_url; the bytes PUT there must match byte_length, once', async () => {
    const made = await call('POST', '/api/v1/artifacts', { body: JSON.stringify({ name: 'later.txt', kind: 'file', content_type: 'text/plain', byte_length: 5 }), headers: { 'content-type': 'application/json' } });
    expect(made.status, JSON.stringify(made.json)).toBe(201);
    expect(made.json).toMatchObject({ status: 'pending', byte_length: 5, sha256: null });
    const uploadUrl = made.json.upload_url as string;
    expect(uploadUrl).toBe(`/api/v1/artifacts/${made.json.artifact_id as string}/upload`);
    expect((await download(made.json.artifact_id as string)).status).toBe(409);

    const short = await call('PUT', uploadUrl, { body: 'abcd' });
    expect(short.status).toBe(400);
    expect((short.json.error as { code: string }).code).toBe('artifact_length_mismatch');

    const put = await call('PUT', uploadUrl, { body: 'abcde' });
    expect(put.status, JSON.stringify(put.json)).toBe(200);
    expect(put.json).toMatchObject({ status: 'ready', byte_length: 5, sha256: sha256(Buffer.from('abcde')) });
    expect((await download(made.json.artifact_id as string)).bytes.toString()).toBe('abcde');
    expect((await call('PUT', uploadUrl, { body: 'abcde' })).status).toBe(409);
  });

  it('lists newest first, by run, by kind and by a part of the name, a page at a time', async () => {
    const run = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
    const first = await upload(Buffer.from('1'), `name=one&kind=trace&run_id=${run}&step_id=probe`);
    const second = await upload(Buffer.from('2'), `name=two&kind=trace&run_id=${run}&step_id=probe`);
    const byRun = await call('GET', `/api/v1/artifacts?run_id=${run}&limit=1`, { token: n.viewer });
    expect((byRun.json.items as { artifact_id: string }[]).map((a) => a.artifact_id)).toEqual([second.artifact_id]);
    const next = await call('GET', `/api/v1/artifacts?run_id=${run}&limit=1&cursor=${byRun.json.next_cursor as string}`, { token: n.viewer });
    expect((next.json.items as { artifact_id: string; step_id: string }[]).map((a) => [a.artifact_id, a.step_id])).toEqual([[first.artifact_id, 'probe']]);
    expect(next.json.next_cursor).toBeNull();
    const byKind = await call('GET', '/api/v1/artifacts?kind=trace', { token: n.viewer });
    expect((byKind.json.items as unknown[]).length).toBe(2);
    const byName = await call('GET', `/api/v1/artifacts?run_id=${run}&name=WO`, { token: n.viewer });
    expect((byName.json.items as { artifact_id: string }[]).map((a) => a.artifact_id)).toEqual([second.artifact_id]);
    const bad = await call('GET', '/api/v1/artifacts?run_id=nope', { token: n.viewer });
    expect(bad.status).toBe(400);
  });

  it('refuses what the caller may not do, or names wrongly', async () => {
    expect((await call('POST', '/api/v1/artifacts?name=x', { token: n.viewer, body: 'x' })).status).toBe(403);
    const nameless = await call('POST', '/api/v1/artifacts?kind=file', { body: 'x', headers: { 'content-type': 'text/plain' } });
    expect(nameless.status).toBe(400);
    expect((nameless.json.error as { message: string }).message).toMatch(/query\.name/);
    expect((await call('GET', '/api/v1/artifacts/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', { token: n.viewer })).status).toBe(404);
  });
});

describe('limits', () => {
  it('a 300 MB stream is refused at XYN_ARTIFACT_MAX_BYTES as it arrives, never held, and leaves nothing', async () => {
    const before = n.node.artifacts.list({ limit: 500 }).items.length;
    const rss = process.memoryUsage().rss;
    const answer = await streamUpload(n.port, '/api/v1/artifacts?name=huge.bin', n.operator, generated(300 * 1000 * 1000));
    expect(answer.status).toBe(413);
    expect(answer.body.error).toMatchObject({ code: 'artifact_too_large', details: { limit: 8 * MiB, variable: 'XYN_ARTIFACT_MAX_BYTES' } });
    expect((answer.body.error as { message: string }).message).toMatch(/8388608 bytes.*XYN_ARTIFACT_MAX_BYTES/);
    // Refused once the limit was passed: the client was stopped long before its 300 MB, and the node held no body.
    expect(answer.sent).toBeLessThan(64 * MiB);
    expect(process.memoryUsage().rss - rss).toBeLessThan(150 * MiB);
    await waitFor(() => n.chunkOwners().size === readyIds().length, 5_000, 'the refused upload’s chunks dropped');
    expect(n.node.artifacts.list({ limit: 500 }).items.length).toBe(before);
  });

  it('a declared Content-Length past the limit is refused before any byte is read', async () => {
    const res = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: n.port, path: '/api/v1/artifacts?name=big', method: 'POST', headers: { authorization: `Bearer ${n.operator}`, 'content-length': String(500 * MiB) } }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(res).toBe(413);
  });

  it('a client that goes away mid-upload leaves no record and no chunk', async () => {
    const before = n.node.artifacts.list({ limit: 500 }).items.length;
    const owners = n.chunkOwners().size;
    const req = request({ host: '127.0.0.1', port: n.port, path: '/api/v1/artifacts?name=cut.bin', method: 'POST', headers: { authorization: `Bearer ${n.operator}`, 'transfer-encoding': 'chunked' } });
    req.on('error', () => undefined);
    for (const piece of generated(3 * MiB)) req.write(piece);
    // Chunks of it are in the CAS: the upload is under way.
    await waitFor(() => n.chunkOwners().size > owners, 10_000, 'the upload’s first chunks written');
    req.destroy();
    await waitFor(() => n.chunkOwners().size === owners, 10_000, 'the cut upload’s chunks dropped');
    expect(n.node.artifacts.list({ limit: 500 }).items.length).toBe(before);
  });
});

function readyIds(): string[] {
  return n.node.artifacts
    .list({ limit: 500 })
    .items.filter((a) => a.status === 'ready' && a.byte_length !== 0)
    .map((a) => a.artifact_id);
}

describe('quota', () => {
  it('an upload that would pass XYN_ARTIFACTS_QUOTA_BYTES is refused 413 naming it, and leaves nothing', async () => {
    const q = await start({ XYN_ARTIFACTS_QUOTA_BYTES: String(2 * MiB) });
    const put = (bytes: Uint8Array, name: string) => fetch(`${q.url}/api/v1/artifacts?name=${name}`, { method: 'POST', headers: { authorization: `Bearer ${q.operator}` }, body: bytes });
    expect((await put(randomBytes(1.5 * MiB), 'a')).status).toBe(201);
    const refused = await put(randomBytes(MiB), 'b');
    expect(refused.status).toBe(413);
    const error = ((await refused.json()) as { error: { code: string; message: string; details: Record<string, unknown> } }).error;
    expect(error).toMatchObject({ code: 'artifact_quota_exceeded', details: { quota: 2 * MiB, variable: 'XYN_ARTIFACTS_QUOTA_BYTES' } });
    expect(error.message).toMatch(/quota of 2097152 bytes/);
    await waitFor(() => q.chunkOwners().size === 1, 5_000, 'the refused upload’s chunks dropped');
    expect(q.node.artifacts.list().items.map((a) => a.name)).toEqual(['a']);
    expect(q.node.artifacts.usedBytes()).toBe(1.5 * MiB);
  });
});
