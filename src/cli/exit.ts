/**
 * Exit codes: 2 for bad input (flags, config, validation, a plan or data dir
 * in a state that refuses the command, a data dir another process holds), 130
 * for a plan stopped by Ctrl-C, 1 for anything else. Judged by the error's code, so that the CLI loads none
 * of the modules whose errors it maps until one is thrown.
 */
import { InvalidArgumentError } from 'commander';
import { PLAN_ID_PATTERN, PLAN_ID_SHAPE } from '../hxo/plan/plan-id.ts';

const BAD_INPUT = new Set([
  'CONFIG',
  'VALIDATION',
  'INVALID_PLAN',
  'PLAN_NOT_FOUND',
  'PLAN_NOT_ENDED',
  'PLAN_COLLECTED',
  'PLAN_NOT_RESUMABLE',
  'PLAN_CHANGED',
  'PLAN_IN_USE',
  'CHECKPOINT_FORMAT',
  'DATA_DIR_LOCKED',
  'SECRET_PATH',
  'SECRET_NOT_FOUND',
  'SECRETS_KEY_MISSING',
  'SECRETS_KEY_WRONG',
  'SECRETS_FILE',
]);

export function exitCodeFor(err: unknown): number {
  if (err instanceof InvalidArgumentError) return 2;
  const code = (err as { code?: unknown } | null)?.code;
  // Stopped by Ctrl-C (interrupt.ts): the shell's convention, 128 + SIGINT.
  if (code === 'INTERRUPTED') return 130;
  return typeof code === 'string' && BAD_INPUT.has(code) ? 2 : 1;
}

export function messageFor(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Parses a flag value as a non-negative integer, or fails with exit code 2. */
export function nonNegativeInt(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${flag} must be a non-negative integer, got "${value}"`);
    return Number(value);
  };
}

/** Checks a plan id argument's shape (exit 2 naming it): a malformed id never reaches the store. */
export function planIdArg(value: string): string {
  if (!PLAN_ID_PATTERN.test(value)) {
    throw new InvalidArgumentError(`a plan id is ${PLAN_ID_SHAPE}, got ${value.length > 40 ? `"${value.slice(0, 40)}…" (${value.length} characters)` : `"${value}"`}`);
  }
  return value;
}
