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
    expect(loadConfig(f).config).toEqual({ board: 'emulator', log: { level: 'info' }, display: { timeFormat: '24h', dateFormat: 'dmy' } });
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
