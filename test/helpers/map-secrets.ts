/**
 * A SecretsPort over a Map, for tests of actions that take `*_ref` fields:
 * resolve gives the value (and remembers it), scrub replaces what was
 * resolved by '[redacted]' in strings, deep in objects and arrays — the
 * contract of src/xyn/actions/action.ts, without the node's secret store.
 */
import { XynError } from '../../src/core/errors.ts';
import type { SecretsPort } from '../../src/xyn/actions/action.ts';

export function mapSecrets(values: Record<string, string>): SecretsPort & { resolved: Set<string> } {
  const resolved = new Set<string>();
  const scrubText = (text: string) => [...resolved].sort((a, b) => b.length - a.length).reduce((t, v) => t.split(v).join('[redacted]'), text);
  const scrub = (value: unknown): unknown => {
    if (typeof value === 'string') return scrubText(value);
    if (Array.isArray(value)) return value.map(scrub);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)]));
    return value;
  };
  return {
    resolved,
    resolve(ref) {
      const value = values[ref];
      if (value === undefined) return Promise.reject(new XynError(`no secret ${ref}`, 'SECRET_NOT_FOUND', { ref }));
      resolved.add(value);
      return Promise.resolve(value);
    },
    scrub: <T>(value: T) => scrub(value) as T,
  };
}
