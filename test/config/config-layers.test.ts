// The two config layers: the provisioned config as the base, the local file's explicit fields over it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../firmware/config/config-error.js';
import { buildConfig, loadConfig, mergeConfigData, parseConfigSource, provisionedCacheFile } from '../../firmware/config/config.js';

const dir = mkdtempSync(join(tmpdir(), 'offhook-config-layers-'));

const PROVISIONED = `log: { level: warn }
accounts:
  - aor: sip:1003@pbx.example.com
    password: from-server
  - aor: sip:1004@pbx.example.com
    password: from-server
media:
  codecs: [PCMU, PCMA]
  jitter: { minDelayMs: 40, maxDelayMs: 400 }
phonebook:
  - { name: Alice, number: "1002" }
`;

describe('config layers', () => {
  it('merges mappings field by field; a list or value in the local file replaces the provisioned one; null keeps it', () => {
    expect(mergeConfigData({ a: { b: 1, c: [1, 2] }, d: 'x' }, { a: { c: [3] }, d: null, e: true })).toEqual({ a: { b: 1, c: [3] }, d: 'x', e: true });
    const config = buildConfig({
      provisioned: parseConfigSource(PROVISIONED, 'http://prov/phone.yaml'),
      local: parseConfigSource('log: { file: /var/log/offhook.log }\nmedia:\n  jitter: { maxDelayMs: 200 }\naccounts:\n  - aor: sip:9@lab.local\n    password: local\n', '/etc/offhook/offhook.yaml'),
    });
    expect(config.log).toEqual({ level: 'warn', file: '/var/log/offhook.log' });
    expect(config.accounts.map((a) => a.aor)).toEqual(['sip:9@lab.local']);
    expect(config.media.codecs).toEqual(['PCMU', 'PCMA']);
    expect(config.media.jitter).toEqual({ minDelayMs: 40, maxDelayMs: 200 });
    expect(config.phonebook).toEqual([{ name: 'Alice', number: '1002' }]);
  });

  it('locates a problem in the file that holds the field: each layer by itself, and across layers', () => {
    const provisioned = parseConfigSource(PROVISIONED, 'http://prov/phone.yaml');
    const problem = (local: string): string => {
      try {
        buildConfig({ provisioned, local: parseConfigSource(local, 'local.yaml') });
      } catch (err) {
        if (err instanceof ConfigError) return err.message;
        throw err;
      }
      return 'no problem';
    };
    // A wrong value in the local file.
    expect(problem('log:\n  level: loud\n')).toBe('local.yaml:2:10: log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "loud"');
    // A cross-field rule broken by the local value: reported there.
    expect(problem('media:\n  jitter:\n    minDelayMs: 1000\n')).toBe('local.yaml:3:17: media.jitter.minDelayMs: must not exceed jitter.maxDelayMs (400 ms), got 1000');
    // The rule names minDelayMs, which only the provisioned document holds: reported there, with the local value in the message.
    expect(problem('media:\n  jitter:\n    maxDelayMs: 30\n')).toBe('http://prov/phone.yaml:9:25: media.jitter.minDelayMs: must not exceed jitter.maxDelayMs (30 ms), got 40');
    // A broken provisioned document names the URL, the line and the column.
    const broken = parseConfigSource(PROVISIONED.replace('codecs: [PCMU, PCMA]', 'codecs: [PCMU, G722]'), 'http://prov/phone.yaml');
    expect(() => buildConfig({ provisioned: broken, local: undefined })).toThrow(/^http:\/\/prov\/phone\.yaml:8:18: media\.codecs\[1\]: G722 is not available/);
  });

  it('loadConfig merges the cached provisioned config from <stateDir>/provisioned.yaml when asked', () => {
    const stateDir = mkdtempSync(join(dir, 'state-'));
    const local = join(dir, 'local.yaml');
    writeFileSync(local, `stateDir: ${stateDir}\nlog: { level: debug }\n`);
    writeFileSync(join(stateDir, 'provisioned.yaml'), PROVISIONED);
    expect(loadConfig(local).config.accounts).toEqual([]);
    const loaded = loadConfig(local, { provisioned: true });
    expect(provisionedCacheFile(loaded.config)).toBe(join(stateDir, 'provisioned.yaml'));
    expect(loaded.config.log.level).toBe('debug');
    expect(loaded.config.accounts).toHaveLength(2);
    expect(loaded.provisioned?.file).toBe(join(stateDir, 'provisioned.yaml'));
    expect(loaded.provisionedProblem).toBeUndefined();
  });

  it('sets aside a cached provisioned config that no longer passes, and boots on the local file', () => {
    const cache = join(dir, 'old-cache.yaml');
    writeFileSync(cache, 'accounts: []\nobsoleteField: 1\n');
    const local = join(dir, 'local2.yaml');
    writeFileSync(local, 'log: { level: debug }\n');
    const loaded = loadConfig(local, { provisioned: cache });
    expect(loaded.config.log.level).toBe('debug');
    expect(loaded.provisioned).toBeUndefined();
    expect(loaded.provisionedProblem?.message).toBe(`${cache}:2:16: obsoleteField: unknown field "obsoleteField" (known: board, log, display, accounts, sip, media, tones, dialPlan, phonebook, features, stateDir, provisioning, emulator, phones)`);
    // A missing cache is no problem at all.
    expect(loadConfig(local, { provisioned: join(dir, 'none.yaml') }).provisionedProblem).toBeUndefined();
  });
});
