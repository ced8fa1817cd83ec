/**
 * Executor outputs as JSON. An output is stored as canonical msgpack, which
 * has values JSON has not; those appear as one-key objects (tags):
 *
 *   bytes (msgpack bin)         → {"$base64": "AQID"}          (standard base64)
 *   integer past ±2^53 (bigint) → {"$bigint": "1152921504606846976"}
 *   timestamp (Date)            → {"$date": "1970-01-01T00:00:00.000Z"}
 *   NaN, Infinity, -Infinity    → {"$float": "NaN" | "Infinity" | "-Infinity"}
 *   undefined (in an array)     → {"$undefined": true}
 *
 * Everything else is itself. Tags keep an output checkable: untag it
 * (`fromOutputJson`), encode it canonically, and its sha256 is the
 * output_digest. Plain JSON outputs (the common case) are returned as they
 * are, without a copy.
 */

export function toOutputJson(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : { $float: String(value) };
    case 'bigint':
      return { $bigint: value.toString() };
    case 'undefined':
      return { $undefined: true };
    case 'object':
      break;
    default:
      return String(value);
  }
  if (value === null) return null;
  if (value instanceof Uint8Array) return { $base64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (value instanceof Date) return { $date: value.toISOString() };
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = toOutputJson(value[i]);
      if (v !== value[i]) (copy ??= value.slice())[i] = v;
    }
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    const v = toOutputJson(record[key]);
    if (v !== record[key]) (copy ??= { ...record })[key] = v;
  }
  return copy ?? record;
}

/** The value a JSON output stands for: tags turned back into bytes, bigints, dates, floats, undefined. */
export function fromOutputJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromOutputJson);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1) {
    const tag = record[keys[0] as string];
    switch (keys[0]) {
      case '$base64':
        if (typeof tag === 'string') return new Uint8Array(Buffer.from(tag, 'base64'));
        break;
      case '$bigint':
        if (typeof tag === 'string') return BigInt(tag);
        break;
      case '$date':
        if (typeof tag === 'string') return new Date(tag);
        break;
      case '$float':
        if (typeof tag === 'string') return Number(tag);
        break;
      case '$undefined':
        if (tag === true) return undefined;
        break;
    }
  }
  return Object.fromEntries(keys.map((k) => [k, fromOutputJson(record[k])]));
}
