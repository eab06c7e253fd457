// Structured logging (pino). One root logger; modules take child loggers with their own context.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: 'warden', ...base },
    // Secrets must never reach logs even when a whole object is logged by mistake.
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'apiPassword', '*.apiPassword', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}
