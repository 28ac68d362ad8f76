// Structured logging with pino: one root logger per process, one child per module.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = LevelWithSilent;

export interface LogOptions {
  level: LogLevel;
  /** File to append to; stderr when absent (stdout belongs to the terminal LCD). */
  file?: string | undefined;
}

/** Keys whose values never reach a log line, wherever they sit in the object (digest secrets). */
export const REDACTED_KEYS = ['password', 'secret', 'ha1', 'authorization', 'proxyAuthorization', 'response'];

export function createLogger(options: LogOptions): Logger {
  const destination = options.file ? pino.destination({ dest: options.file, append: true, sync: false }) : pino.destination(2);
  return pino(
    {
      level: options.level,
      base: { app: 'offhook' },
      redact: { paths: REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]), censor: '[redacted]' },
    },
    destination,
  );
}

/** A logger that drops everything, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
