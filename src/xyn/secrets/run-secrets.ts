/**
 * A run's secrets (the SecretsPort of its actions): `resolve` hands an
 * action a secret's value and remembers it; `scrub` takes every value
 * remembered out of what the run is about to record — step inputs, outputs,
 * errors, events — replacing it with `[redacted]`, deep in strings, objects
 * and arrays. Its base64 form goes too, as HTTP Basic credentials and keys
 * travel that way.
 *
 * Values shorter than 4 characters are handed out but not scrubbed: a 1–3
 * character "secret" would be replaced wherever those characters occur (every
 * `1` of every number in a record), wrecking the records while its places
 * gave the value away; such a value protects nothing to begin with.
 *
 *   const secrets = new RunSecrets(store);
 *   const token = await secrets.resolve('api-token');
 *   secrets.scrub({ error: `401 for ${token}` });   // { error: '401 for [redacted]' }
 */
import type { SecretsPort } from '../actions/action.ts';
import { secretPath } from './paths.ts';
import type { SecretStore } from './store.ts';

export const REDACTED = '[redacted]';
/** The shortest value scrubbed (see the header for why not shorter). */
export const MIN_SCRUBBED_LENGTH = 4;

export class RunSecrets implements SecretsPort {
  private readonly values = new Set<string>();
  /** Every form of every value, longest first; undefined when nothing is to be scrubbed. */
  private pattern: RegExp | undefined;

  constructor(private readonly store: SecretStore) {}

  async resolve(ref: string): Promise<string> {
    const value = await this.store.get(secretPath(ref, 'ref'));
    this.remember(value);
    return value;
  }

  scrub<T>(value: T): T {
    const pattern = this.pattern;
    return pattern ? (scrubDeep(value, pattern) as T) : value;
  }

  private remember(value: string): void {
    if (value.length < MIN_SCRUBBED_LENGTH || this.values.has(value)) return;
    this.values.add(value);
    const forms = new Set<string>();
    for (const v of this.values) for (const form of formsOf(v)) forms.add(form);
    const escaped = [...forms].sort((a, b) => b.length - a.length).map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.pattern = new RegExp(escaped.join('|'), 'g');
  }
}

/**
 * The value and its base64: padded, and the characters of it that do not
 * depend on what follows the value (a value at the start of a longer encoded
 * text, as in Basic `user:password` when the secret is the user part).
 */
function formsOf(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const b64 = bytes.toString('base64');
  const fixed = b64.slice(0, Math.floor((bytes.length * 4) / 3));
  return [value, b64, ...(fixed.length >= MIN_SCRUBBED_LENGTH ? [fixed] : [])];
}

function scrubDeep(value: unknown, pattern: RegExp): unknown {
  if (typeof value === 'string') return value.replace(pattern, REDACTED);
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, pattern));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubDeep(v, pattern)]));
  }
  return value;
}
