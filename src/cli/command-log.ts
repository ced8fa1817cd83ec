/**
 * The log of a command that runs a node in its own process (run, resume,
 * replay): stdout carries the command's report, so the log goes to stderr,
 * warnings and worse unless XYN_LOG_LEVEL asks for less or more than info.
 */
import type { Config } from '../kernel/config.ts';
import { createLogger, type Logger } from '../kernel/log.ts';

export function commandLog(config: Config): Logger {
  return createLogger(config.XYN_LOG_LEVEL === 'info' ? 'warn' : config.XYN_LOG_LEVEL, 'stderr');
}
