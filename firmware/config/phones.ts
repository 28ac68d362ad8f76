// The phones of one process: the config's `phones` list, each entry merged over the rest of the file and checked with its own lines and columns.
import { ConfigError, type ConfigProblem } from './config-error.js';
import { checkConfig, mergeConfigData, type ConfigCheck, type LoadedConfig } from './config.js';
import { configSchema, PHONE_NAME_PATTERN, type OffhookConfig } from './config-schema.js';
import { validate, type SchemaIssue } from './schema.js';
import { presentDepth, problemAt, type YamlSource } from './yaml-file.js';

/** One phone to run: its config as if it had a file of its own. */
export interface PhoneConfig {
  /**
   * Its name in the emulator's URLs and page: the entry's `name`, else its first account's user
   * part, else phone<N>. Undefined for the one phone of a config without `phones` (the server then
   * names it after the first account).
   */
  name: string | undefined;
  config: OffhookConfig;
  /** Set when the phone has no stateDir of its own: its stores go to this subdirectory of the shared one. */
  stateSubdir: string | undefined;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The user part of the first account's AOR as a phone name, when it is one. */
function accountName(config: OffhookConfig): string | undefined {
  const aor = config.accounts[0]?.aor;
  const user = aor !== undefined ? /^sips?:([^@;]+)@/i.exec(aor)?.[1] : undefined;
  return user !== undefined && PHONE_NAME_PATTERN.test(user) ? user : undefined;
}

/** The SIP sockets the phones open on fixed ports: two phones must not ask for the same one. */
function listenerClashes(phones: readonly { config: OffhookConfig }[]): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const taken = new Map<string, number>();
  phones.forEach((p, i) => {
    p.config.sip.listen.forEach((l, j) => {
      if (l.port === 0) return;
      const key = `${l.transport} ${l.address} ${l.port}`;
      const first = taken.get(key);
      if (first !== undefined) issues.push({ path: ['phones', i, 'sip', 'listen', j, 'port'], message: `phones[${first}] listens on ${l.transport} ${l.address}:${l.port} already` });
      else taken.set(key, i);
    });
  });
  return issues;
}

/**
 * The phones a loaded config runs: itself alone without `phones`; else each entry's fields merged
 * over the rest of the config's data (mergeConfigData: mappings field by field, lists replaced
 * whole), checked against the whole schema, the cross-field rules and `checks`. A problem is located
 * in the entry when the entry sets the field (`phones[1].media.audio.capture`), else in the file's
 * own field. Names must differ, and so must fixed SIP ports. Throws ConfigError.
 */
export function phoneConfigsOf(loaded: Pick<LoadedConfig, 'config' | 'local' | 'provisioned'>, checks?: ConfigCheck): PhoneConfig[] {
  const entries = loaded.config.phones;
  if (entries === undefined) return [{ name: undefined, config: loaded.config, stateSubdir: undefined }];
  const sources = [loaded.local, loaded.provisioned].filter((s): s is YamlSource => s !== undefined);
  const merged = mergeConfigData(loaded.provisioned?.data, loaded.local?.data);
  const { phones: _phones, ...base } = isMapping(merged) ? merged : {};
  const phonesSource = sources.find((s) => s.doc.hasIn(['phones']));
  const problems: ConfigProblem[] = [];
  const locate = (issue: SchemaIssue, i: number | undefined): ConfigProblem => {
    const inEntry = i === undefined ? issue.path : ['phones', i, ...issue.path];
    if (phonesSource && i !== undefined && presentDepth(phonesSource, inEntry) > 2) return problemAt(phonesSource, { path: inEntry, message: issue.message });
    let best: YamlSource | undefined;
    let depth = -1;
    for (const s of sources) {
      const d = presentDepth(s, issue.path);
      if (d > depth) [best, depth] = [s, d];
    }
    return best ? problemAt(best, issue) : { file: '(defaults)', path: issue.path, message: issue.message };
  };
  const phones: PhoneConfig[] = [];
  entries.forEach((entry, i) => {
    const result = validate(configSchema, mergeConfigData(base, entry.fields));
    const issues = result.value !== undefined ? [...checkConfig(result.value), ...(checks?.(result.value) ?? [])] : result.issues;
    for (const issue of issues) problems.push(locate(issue, i));
    if (result.value === undefined || issues.length > 0) return;
    const config: OffhookConfig = { ...result.value, phones: undefined };
    const name = entry.name ?? accountName(config) ?? `phone${i + 1}`;
    phones.push({ name, config, stateSubdir: 'stateDir' in entry.fields ? undefined : name });
  });
  if (problems.length > 0) throw new ConfigError(problems);
  const names = new Map<string, number>();
  phones.forEach((p, i) => {
    const first = names.get(p.name ?? '');
    if (first !== undefined) problems.push(locate({ path: ['phones', i, 'name'], message: `phones[${first}] is named "${p.name ?? ''}" already (give each phone a name of its own)` }, undefined));
    else names.set(p.name ?? '', i);
  });
  for (const issue of listenerClashes(phones)) problems.push(locate(issue, undefined));
  if (problems.length > 0) throw new ConfigError(problems);
  return phones;
}
