import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../firmware/config/config.js';

const dir = mkdtempSync(join(tmpdir(), 'offhook-config-'));

describe('config file', () => {
  it('applies defaults for absent sections', () => {
    const f = join(dir, 'a.yaml');
    writeFileSync(f, 'board: emulator\n');
    // The sections the schema has had from the start; every later one is covered in config-schema.test.ts.
    expect(loadConfig(f).config).toMatchObject({
      board: 'emulator',
      log: { level: 'info' },
      display: { timeFormat: '24h', dateFormat: 'dmy' },
      accounts: [],
      sip: { listen: [{ transport: 'udp', address: '0.0.0.0', port: 5060 }], tlsInsecure: false, keepAliveS: 30, userAgent: 'offhook' },
    });
  });

  it('reads an account with defaults and names a wrong field inside the list', () => {
    const f = join(dir, 'acct.yaml');
    writeFileSync(f, 'accounts:\n  - aor: sip:1003@test.local\n    password: pw1003\n  - aor: 1004@test.local\n    password: x\n');
    expect(() => loadConfig(f)).toThrow(`${f}:4:10: accounts[1].aor: expected a SIP URI like "sip:1003@pbx.example.com", got "1004@test.local"`);
    writeFileSync(f, 'accounts:\n  - aor: sip:1003@test.local\n    password: pw1003\n');
    expect(loadConfig(f).config.accounts).toEqual([
      { aor: 'sip:1003@test.local', password: 'pw1003', transport: 'udp', expiresS: 3600, outbound: false, register: true, srtp: 'off', dtmf: 'rfc4733', mwi: 'subscribe' },
    ]);
  });

  it('names the field and line of a bad log level', () => {
    const f = join(dir, 'b.yaml');
    writeFileSync(f, 'board: emulator\nlog:\n  level: loud\n');
    expect(() => loadConfig(f)).toThrow(`${f}:3:10: log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "loud"`);
  });

  it('an explicit file that does not exist is an error naming it', () => {
    const f = join(dir, 'missing.yaml');
    expect(() => loadConfig(f)).toThrow(`${f}: cannot read the file (ENOENT)`);
  });
});
