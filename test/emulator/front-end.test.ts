// Choosing the emulator's front end from flags and config, the new command-line flags, and `offhook hash-password`.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../firmware/cli-args.js';
import { EMULATOR_DEFAULTS } from '../../firmware/config/emulator-schema.js';
import { chooseFrontEnd } from '../../firmware/emulator/front-end.js';
import { runHashPassword } from '../../firmware/emulator/hash-password-command.js';
import { verifyPassword } from '../../firmware/emulator/password.js';

const config = { ...EMULATOR_DEFAULTS };

describe('front end', () => {
  it('the emulator board gets the page by default; terminal and none on request', () => {
    expect(chooseFrontEnd({ ui: undefined, httpPort: undefined, httpAddress: undefined, emulated: true, config })).toEqual({
      terminal: false,
      web: { port: 8080, address: '127.0.0.1', passwordHash: undefined, page: true },
    });
    expect(chooseFrontEnd({ ui: 'terminal', httpPort: undefined, httpAddress: undefined, emulated: true, config })).toEqual({ terminal: true, web: undefined });
    expect(chooseFrontEnd({ ui: 'none', httpPort: 0, httpAddress: '::1', emulated: true, config })).toEqual({ terminal: false, web: { port: 0, address: '::1', passwordHash: undefined, page: false } });
  });

  it('flags override the config; a real board has no emulator front end', () => {
    const c = { httpPort: 9000, httpAddress: '0.0.0.0', passwordHash: 'scrypt$...' };
    expect(chooseFrontEnd({ ui: undefined, httpPort: undefined, httpAddress: undefined, emulated: true, config: c })).toMatchObject({ web: { port: 9000, address: '0.0.0.0', passwordHash: 'scrypt$...' } });
    expect(chooseFrontEnd({ ui: undefined, httpPort: 1, httpAddress: '127.0.0.2', emulated: true, config: c })).toMatchObject({ web: { port: 1, address: '127.0.0.2' } });
    expect(chooseFrontEnd({ ui: undefined, httpPort: undefined, httpAddress: undefined, emulated: false, config })).toEqual({ terminal: false, web: undefined });
    expect(chooseFrontEnd({ ui: 'web', httpPort: undefined, httpAddress: undefined, emulated: false, config })).toEqual({ error: '--ui web needs a board with emulated chips (--board emulator)' });
  });

  it('an address other than loopback without a password is an error before anything starts', () => {
    const r = chooseFrontEnd({ ui: undefined, httpPort: undefined, httpAddress: '0.0.0.0', emulated: true, config });
    expect(r).toHaveProperty('error');
    expect((r as { error: string }).error).toContain('offhook hash-password');
  });
});

describe('command line', () => {
  it('parses --ui, --no-ui, --http-port and --http-address', () => {
    expect(parseCli(['--board', 'emulator', '--http-port', '0', '--no-ui'])).toMatchObject({ kind: 'run', options: { board: 'emulator', httpPort: 0, ui: 'none' } });
    expect(parseCli(['--ui', 'terminal', '--http-address', '::1'])).toMatchObject({ kind: 'run', options: { ui: 'terminal', httpAddress: '::1' } });
    expect(parseCli(['--ui', 'vr'])).toEqual({ kind: 'usage-error', message: '--ui must be one of web, terminal, none, got "vr"' });
    expect(parseCli(['--no-ui', '--ui', 'web'])).toEqual({ kind: 'usage-error', message: '--no-ui contradicts --ui web' });
    expect(parseCli(['--http-port', '70000'])).toMatchObject({ kind: 'usage-error' });
    expect(parseCli(['--http-port', '-1'])).toMatchObject({ kind: 'usage-error' });
    expect(parseCli(['hash-password'])).toEqual({ kind: 'hash-password' });
  });
});

describe('offhook hash-password', () => {
  it('reads one line from piped stdin and prints a hash that verifies; the password is not printed', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const messages = new PassThrough();
    let out = '';
    let msg = '';
    output.on('data', (d: Buffer) => (out += d.toString()));
    messages.on('data', (d: Buffer) => (msg += d.toString()));
    const running = runHashPassword({ input, output, messages });
    input.end('open sesame\n');
    expect(await running).toBe(0);
    const hash = out.trim();
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyPassword('open sesame', hash)).toBe(true);
    expect(out + msg).not.toContain('open sesame');
    expect(msg).toContain('passwordHash');
  });

  it('exits 1 on empty input', async () => {
    const input = new PassThrough();
    const messages = new PassThrough();
    const running = runHashPassword({ input, output: new PassThrough(), messages });
    input.end('');
    expect(await running).toBe(1);
  });
});
