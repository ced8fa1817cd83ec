/**
 * The names secrets go by (seed 004 §26.4): a path like `deploy-key` or
 * `sys/<env_id>/providers/openai`. Lowercase letters, digits and `- _ . /`,
 * at most 256 characters, no segment empty or starting with `.` (so no
 * `..`) — a path names a secret, never a place to climb out of (a later
 * backend may map it onto files or Vault paths).
 *
 *   secretPath('sys/local/providers/openai')   // the same string
 *   secretPath('Deploy Key')                   // throws SecretPathError naming the rule
 */
import { SecretPathError } from './errors.ts';

export const SECRET_PATH_MAX = 256;
/** The characters and segments a path may have (length checked apart, to say which rule it broke): no segment starts with a dot. */
export const SECRET_PATH_PATTERN = /^[a-z0-9_-][a-z0-9_.-]*(\/[a-z0-9_-][a-z0-9_.-]*)*$/;
export const SECRET_PATH_RULE = `lowercase letters, digits and - _ . / (at most ${SECRET_PATH_MAX} characters; segments not empty, none starting with a dot, so no ..), e.g. deploy-key or sys/local/providers/openai`;

/** The reason `path` is not a secret path, or undefined when it is one. */
export function secretPathProblem(path: string): string | undefined {
  if (path.length === 0) return 'it is empty';
  if (path.length > SECRET_PATH_MAX) return `it is ${path.length} characters long`;
  if (!SECRET_PATH_PATTERN.test(path)) return 'it has a character outside the rule, an empty segment, or one starting with a dot';
  return undefined;
}

/** `path` when it is a secret path; else a SecretPathError saying why and what a good one is. */
export function secretPath(path: string, field = 'path'): string {
  const problem = secretPathProblem(path);
  if (problem !== undefined) throw new SecretPathError(`${field}: ${JSON.stringify(path.slice(0, 80))} is not a secret path (${problem}): expected ${SECRET_PATH_RULE}`, field);
  return path;
}
