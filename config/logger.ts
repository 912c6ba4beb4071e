import { pino, type Logger as PinoLogger } from 'pino';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';

export type Logger = PinoLogger;

/**
 * Structured JSON logs on stdout. Anything that could carry a token (JWTs, Temporal task
 * tokens) is redacted by path; the server never logs raw URLs or headers.
 */
export function createLogger(level: string, name = 'normx-notify'): Logger {
  return pino({
    name,
    level,
    redact: {
      // taskToken: the Temporal SDK puts the activity's task token in its log context.
      paths: [
        'token',
        '*.token',
        'authorization',
        '*.authorization',
        'headers.authorization',
        'taskToken',
        '*.taskToken',
      ],
      censor: '[redacted]',
    },
  });
}

const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The Temporal SDK's logger interface on top of pino, for the worker runtime, workflows and activities. */
export function temporalLogger(logger: Logger): TemporalLogger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    logger[levels[level]](meta ?? {}, message);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}
