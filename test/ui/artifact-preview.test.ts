/**
 * What the artifact pages make of untrusted bytes and names, without a
 * browser: the preview of each kind of content (and of content that lies
 * about its kind), and the file name a download is saved under.
 */
import { describe, expect, it } from 'vitest';
import { attachment } from '../../src/ui/pages/artifact-bytes.ts';
import { PREVIEW_BYTES, previewOf } from '../../src/ui/pages/artifact-preview.ts';

const ID = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const whole = (type: string, text: string | Buffer) => {
  const bytes = Buffer.from(text);
  return previewOf(ID, type, bytes.length, bytes);
};

describe('an artifact preview', () => {
  it('pretty-prints JSON (a +json type too), and shows JSON that is not valid as text, saying why', () => {
    expect(whole('application/json; charset=utf-8', '{"a":[1]}')).toEqual({ type: 'json', text: '{\n  "a": [\n    1\n  ]\n}' });
    expect(whole('application/problem+json', '{"a":1}')).toMatchObject({ type: 'json' });
    expect(whole('application/json', '{"a":')).toMatchObject({ type: 'text', text: '{"a":', note: expect.stringContaining('not valid JSON') });
  });

  it('shows JSON lines one compact value a line, a line that is not JSON as it is, and drops the line a cut broke', () => {
    expect(whole('application/x-ndjson', '{"a": 1}\n\nnot json\n{"b" :2}\n')).toEqual({ type: 'jsonl', lines: ['{"a":1}', 'not json', '{"b":2}'], cut: false });
    const head = Buffer.from('{"a":1}\n{"b":');
    expect(previewOf(ID, 'application/x-ndjson', head.length + 10, head)).toEqual({ type: 'jsonl', lines: ['{"a":1}'], cut: true });
  });

  it('cuts text at PREVIEW_BYTES without splitting a character, and says it was cut', () => {
    const head = Buffer.concat([Buffer.alloc(PREVIEW_BYTES - 1, 'a'), Buffer.from('é').subarray(0, 1)]);
    const preview = previewOf(ID, 'text/plain', PREVIEW_BYTES + 100, head);
    expect(preview).toMatchObject({ type: 'text', cut: true });
    expect((preview as { text: string }).text).toBe('a'.repeat(PREVIEW_BYTES - 1));
  });

  it('shows HTML and SVG as their source, images by the raw route, and nothing of binary or other types', () => {
    expect(whole('text/html', '<script>x()</script>')).toEqual({ type: 'text', text: '<script>x()</script>', cut: false });
    expect(whole('image/svg+xml', '<svg onload="x()"/>')).toMatchObject({ type: 'text' });
    expect(previewOf(ID, 'image/png', 10, undefined)).toEqual({ type: 'image', src: `/ui/artifacts/${ID}/raw` });
    expect(whole('text/plain', Buffer.from([0x61, 0, 0x62]))).toMatchObject({ type: 'none', reason: expect.stringContaining('NUL bytes') });
    expect(previewOf(ID, 'application/octet-stream', 10, undefined)).toMatchObject({ type: 'none', reason: expect.stringContaining('application/octet-stream') });
  });
});

describe('a download file name', () => {
  it('is the artifact name when it is plain, and a safe stand-in beside the encoded name when it is not', () => {
    expect(attachment('report.txt')).toBe(`attachment; filename="report.txt"; filename*=UTF-8''report.txt`);
    expect(attachment('../../etc/"x"\r\nSet-Cookie: a=b')).toBe(`attachment; filename="_x___Set-Cookie_ a_b"; filename*=UTF-8''%22x%22%0D%0ASet-Cookie%3A%20a%3Db`);
    expect(attachment('.bashrc')).toMatch(/^attachment; filename="bashrc";/);
    expect(attachment('résumé (1).pdf')).toBe(`attachment; filename="r_sum_ _1_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%281%29.pdf`);
    expect(attachment('')).toMatch(/^attachment; filename="artifact"; filename\*=UTF-8''artifact$/);
  });
});
