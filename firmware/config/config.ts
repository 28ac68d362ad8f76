// Loads the configuration file: the default path may be absent (defaults apply), an explicit one must exist.
import { existsSync } from 'node:fs';
import { configSchema, DEFAULT_CONFIG_FILE, type OffhookConfig } from './config-schema.js';
import { validate } from './schema.js';
import { loadYamlFile } from './yaml-file.js';

export interface LoadedConfig {
  /** The file read, or undefined when the defaults were used. */
  file: string | undefined;
  config: OffhookConfig;
}

export function defaultConfig(): OffhookConfig {
  const r = validate(configSchema, {});
  if (r.value === undefined) throw new Error('the config schema has no valid defaults');
  return r.value;
}

/** Throws ConfigError (file, field path, line and column) for a broken file or a missing explicit one. */
export function loadConfig(file: string | undefined): LoadedConfig {
  if (file === undefined) {
    if (!existsSync(DEFAULT_CONFIG_FILE)) return { file: undefined, config: defaultConfig() };
    file = DEFAULT_CONFIG_FILE;
  }
  return { file, config: loadYamlFile(file, configSchema) };
}
