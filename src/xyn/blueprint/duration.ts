/**
 * Durations in blueprints (`timeout`, `backoff`): `250ms`, `30s`, `5m`, `1h`,
 * or a whole number of milliseconds. One parser, so the validator and the
 * runner agree on what a duration is.
 */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION_RE = /^(\d+)(ms|s|m|h)$/;

export const DURATION_RULE = 'must be a duration like 30s, 5m, 1h, 250ms, or a whole number of milliseconds';

/** The duration in milliseconds, or undefined when `value` is not one. */
export function durationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = DURATION_RE.exec(value);
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return Number.isSafeInteger(ms) ? ms : undefined;
}
