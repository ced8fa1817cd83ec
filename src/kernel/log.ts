/**
 * JSON logs (pino) to stdout. A log line carries `correlation_id` when the
 * work it describes has one: `withCorrelation(logger, id).info(...)`.
 * Secrets are redacted by key wherever they appear.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** JSON logs to stdout by default; 'stderr' keeps stdout free for a command's own output. */
export function createLogger(level: string = 'info', destination?: DestinationStream | 'stderr'): Logger {
  return pino(
    {
      level,
      base: { service: 'xyn' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['*.token', '*.authorization', '*.api_key', '*.OPENAI_API_KEY', '*.ANTHROPIC_API_KEY', '*.XYN_NOTIFY_WEBHOOK_URL', '*.XYN_NOTIFY_WEBHOOK_SECRET', 'token'],
        censor: '[redacted]',
      },
    },
    destination === 'stderr' || destination === undefined ? pino.destination({ dest: destination ? 2 : 1, sync: false }) : destination,
  );
}

export function withCorrelation(logger: Logger, correlationId: string | undefined): Logger {
  return correlationId ? logger.child({ correlation_id: correlationId }) : logger;
}
