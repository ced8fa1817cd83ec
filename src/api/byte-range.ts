/**
 * The one byte range a download may be asked for (RFC 9110 §14.2):
 * `Range: bytes=a-b`, `bytes=a-` (to the end) or `bytes=-n` (the last n).
 * A Range that is not one of those (several ranges, another unit, garbage)
 * is ignored — the whole is sent, as the RFC allows; one that starts past
 * the end cannot be satisfied (416).
 *
 *   byteRange('bytes=0-99', 1000)   // {start: 0, end: 99}
 *   byteRange('bytes=2000-', 1000)  // 'unsatisfiable'
 */
export type RangeAsked = { start: number; end: number } | 'whole' | 'unsatisfiable';

const SINGLE = /^bytes=(\d{0,15})-(\d{0,15})$/;

export function byteRange(header: string, length: number): RangeAsked {
  const m = SINGLE.exec(header.replace(/\s+/g, ''));
  if (!m || (m[1] === '' && m[2] === '')) return 'whole';
  const [first, last] = [m[1] as string, m[2] as string];
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || length === 0) return 'unsatisfiable';
    return { start: Math.max(0, length - suffix), end: length - 1 };
  }
  const start = Number(first);
  const end = last === '' ? length - 1 : Math.min(Number(last), length - 1);
  if (last !== '' && Number(last) < start) return 'whole';
  if (start >= length) return 'unsatisfiable';
  return { start, end };
}
