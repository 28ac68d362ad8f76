// The phone's configuration file (/etc/offhook/offhook.yaml): schema with defaults and units.
import { LOG_LEVELS } from '../util/log.js';
import { object, oneOf, optional, string, withDefault, type Infer } from './schema.js';

export const configSchema = object({
  /** Board profile name (board/<name>.yaml) or file; detected from the device tree when absent. */
  board: optional(string({ minLength: 1 })),
  log: withDefault(
    object({
      level: withDefault(oneOf(LOG_LEVELS), 'info'),
      /** Append JSON lines here instead of stderr. */
      file: optional(string({ minLength: 1 })),
    }),
    { level: 'info' as const, file: undefined },
  ),
  display: withDefault(
    object({
      timeFormat: withDefault(oneOf(['24h', '12h'] as const), '24h'),
      dateFormat: withDefault(oneOf(['dmy', 'mdy', 'ymd'] as const), 'dmy'),
    }),
    { timeFormat: '24h' as const, dateFormat: 'dmy' as const },
  ),
});

export type OffhookConfig = Infer<typeof configSchema>;
export const DEFAULT_CONFIG_FILE = '/etc/offhook/offhook.yaml';
