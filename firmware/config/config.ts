// Loads the configuration: the local file (the default path may be absent, an explicit one must exist) over the last good provisioned config, with cross-field checks.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type ConfigProblem } from './config-error.js';
import { configSchema, DEFAULT_CONFIG_FILE, type OffhookConfig } from './config-schema.js';
import { validate, type SchemaIssue } from './schema.js';
import { parseYamlSource, presentDepth, problemAt, readConfigText, validateYamlSource, type YamlSource } from './yaml-file.js';

/**
 * A check the schema cannot express, supplied by a layer the config may not import (the composition
 * root passes the phone's digit-map parser this way). Issues name the field's path; the loader adds
 * the file, line and column.
 */
export type ConfigCheck = (config: OffhookConfig) => SchemaIssue[];

export interface LoadedConfig {
  /** The local file read, or undefined when the defaults were used. */
  file: string | undefined;
  config: OffhookConfig;
  /** The local file as parsed, for the Provisioner to merge fetched configs with; undefined: no file. */
  local?: YamlSource | undefined;
  /** The cached provisioned config merged under the local file, when there was a usable one. */
  provisioned?: YamlSource | undefined;
  /** Why the cached provisioned config was not used (it is ignored, not fatal: the phone boots on the local file). */
  provisionedProblem?: ConfigError | undefined;
}

export interface LoadConfigOptions {
  /**
   * Merge the last good provisioned config under the local file: true reads it from
   * provisionedCacheFile(local config), a string names the file. Default false.
   */
  provisioned?: boolean | string;
  /** Extra checks (see ConfigCheck). */
  checks?: ConfigCheck | undefined;
}

export function defaultConfig(): OffhookConfig {
  const r = validate(configSchema, {});
  if (r.value === undefined) throw new Error('the config schema has no valid defaults');
  return r.value;
}

/** Where the last good provisioned config is kept: provisioning.cacheFile, else <stateDir>/provisioned.yaml. */
export function provisionedCacheFile(config: OffhookConfig): string {
  return config.provisioning.cacheFile ?? join(config.stateDir, 'provisioned.yaml');
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The provisioned document with the local one over it (see buildConfig): mappings are merged key by
 * key; a list or a value in the local document replaces the provisioned one whole; a field the local
 * document leaves empty (null) keeps the provisioned value.
 */
export function mergeConfigData(base: unknown, over: unknown): unknown {
  if (over === undefined || over === null) return base;
  if (!isMapping(base) || !isMapping(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeConfigData(base[k], v);
  return out;
}

/** Rules across fields: each AOR once, Min-SE within Session-Expires, jitter and port ranges in order, each speed-dial key once. */
export function checkConfig(config: OffhookConfig): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const aors = new Map<string, number>();
  config.accounts.forEach((a, i) => {
    const key = a.aor.toLowerCase();
    const first = aors.get(key);
    if (first !== undefined) issues.push({ path: ['accounts', i, 'aor'], message: `the same AOR as accounts[${first}]` });
    else aors.set(key, i);
  });
  const st = config.sip.sessionTimer;
  if (st.minSeS > st.expiresS) issues.push({ path: ['sip', 'sessionTimer', 'minSeS'], message: `must not exceed sessionTimer.expiresS (${st.expiresS} s), got ${st.minSeS}` });
  const jitter = config.media.jitter;
  if (jitter.minDelayMs > jitter.maxDelayMs) {
    issues.push({ path: ['media', 'jitter', 'minDelayMs'], message: `must not exceed jitter.maxDelayMs (${jitter.maxDelayMs} ms), got ${jitter.minDelayMs}` });
  }
  const audio = config.media.audio;
  if (audio?.backend === 'browser' && audio.bufferMs < audio.prerollMs + 20) {
    issues.push({ path: ['media', 'audio', 'bufferMs'], message: `must be at least audio.prerollMs + 20 (${audio.prerollMs + 20} ms), got ${audio.bufferMs}` });
  }
  const ports = config.media.rtpPorts;
  // RFC 3550 §11: RTP on an even port, RTCP on the odd one above it.
  if (ports.min % 2 !== 0) issues.push({ path: ['media', 'rtpPorts', 'min'], message: `must be even (RTP on even ports, RFC 3550 §11), got ${ports.min}` });
  if (ports.max <= ports.min) issues.push({ path: ['media', 'rtpPorts', 'max'], message: `must be above rtpPorts.min (${ports.min}), got ${ports.max}` });
  const keys = new Map<number, number>();
  config.phonebook.forEach((e, i) => {
    if (e.speedDial === undefined) return;
    const first = keys.get(e.speedDial);
    if (first !== undefined) issues.push({ path: ['phonebook', i, 'speedDial'], message: `speed dial ${e.speedDial} is already used by phonebook[${first}] (${config.phonebook[first]?.name ?? ''})` });
    else keys.set(e.speedDial, i);
  });
  return issues;
}

/** A parsed config document, from its text; throws ConfigError for a YAML syntax error. */
export function parseConfigSource(text: string, file: string): YamlSource {
  return parseYamlSource(text, file);
}

/** Reads and parses a config file; throws ConfigError when it cannot be read or parsed. */
export function readConfigSource(file: string): YamlSource {
  return parseYamlSource(readConfigText(file), file);
}

/**
 * The config from its two layers. Precedence, as commercial desk phones have it (Polycom: device and
 * web settings over the provisioning server's files; Yealink: local changes over auto-provisioned
 * ones): the provisioned config is the base, and whatever the local file says explicitly wins —
 * mapping by mapping, field by field, while a list (accounts, codecs, phonebook) in the local file
 * replaces the provisioned list whole. A deployment whose phones are run from the server keeps only
 * `provisioning` (and perhaps `board`) in the local file.
 *
 * Each layer must be valid against the schema by itself, so that its errors name its own file, line
 * and column; the merged config is then checked again, with the cross-field rules (checkConfig) and
 * `checks`, and a problem there is located in the layer that holds the field (the local file when
 * both do). Throws ConfigError.
 */
export function buildConfig(layers: { local?: YamlSource | undefined; provisioned?: YamlSource | undefined }, checks?: ConfigCheck): OffhookConfig {
  const { local, provisioned } = layers;
  if (provisioned) validateYamlSource(provisioned, configSchema);
  if (local && provisioned) validateYamlSource(local, configSchema);
  const data = mergeConfigData(provisioned?.data, local?.data);
  const result = validate(configSchema, data);
  const issues = result.value !== undefined ? [...checkConfig(result.value), ...(checks?.(result.value) ?? [])] : result.issues;
  if (result.value !== undefined && issues.length === 0) return result.value;
  const sources = [local, provisioned].filter((s): s is YamlSource => s !== undefined);
  throw new ConfigError(
    issues.map((issue): ConfigProblem => {
      let best: YamlSource | undefined;
      let depth = -1;
      for (const s of sources) {
        const d = presentDepth(s, issue.path);
        if (d > depth) [best, depth] = [s, d];
      }
      return best ? problemAt(best, issue) : { file: '(defaults)', path: issue.path, message: issue.message };
    }),
  );
}

/**
 * Loads the local file (or the defaults when the default file is absent), with the last good
 * provisioned config under it when options.provisioned says so. Throws ConfigError (file, field
 * path, line and column) for a broken local file or a missing explicit one; a cached provisioned
 * config that no longer passes (after a firmware update, say) is set aside in provisionedProblem.
 */
export function loadConfig(file: string | undefined, options: LoadConfigOptions = {}): LoadedConfig {
  if (file === undefined && existsSync(DEFAULT_CONFIG_FILE)) file = DEFAULT_CONFIG_FILE;
  const local = file === undefined ? undefined : readConfigSource(file);
  const config = buildConfig({ local }, options.checks);
  if (options.provisioned === undefined || options.provisioned === false) return { file, config, local };
  const cacheFile = typeof options.provisioned === 'string' ? options.provisioned : provisionedCacheFile(config);
  if (!existsSync(cacheFile)) return { file, config, local };
  try {
    const provisioned = readConfigSource(cacheFile);
    return { file, config: buildConfig({ local, provisioned }, options.checks), local, provisioned };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { file, config, local, provisionedProblem: err };
  }
}
