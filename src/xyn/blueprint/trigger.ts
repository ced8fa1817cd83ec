/**
 * A blueprint's trigger: a NATS-style event subject pattern (checked by the
 * kernel's own pattern compiler, so a trigger matches exactly what a bus
 * subscription would) or a cron expression (checked by croner), with an
 * optional IANA timezone for the cron.
 */
import { Cron } from 'croner';
import { compilePattern } from '../../kernel/topic.ts';

/** Why `pattern` is not an event pattern, or undefined when it is one. */
export function eventPatternProblem(pattern: string): string | undefined {
  try {
    compilePattern(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Why `expr` is not a 5- or 6-field cron expression, or undefined when it is one. */
export function cronProblem(expr: string): string | undefined {
  const fields = expr.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) return `cron "${expr}" has ${fields} fields: it needs 5 (minute hour day month weekday) or 6 (seconds first)`;
  try {
    new Cron(expr, { paused: true });
    return undefined;
  } catch (err) {
    return `cron "${expr}" is not valid: ${(err as Error).message.replace(/^CronPattern: /, '')}`;
  }
}

/** Why `tz` is not an IANA timezone, or undefined when it is one. */
export function timezoneProblem(tz: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return undefined;
  } catch {
    return `timezone "${tz}" is not an IANA timezone (like Europe/Berlin or UTC)`;
  }
}
