// The built `offhook` command as a user runs it: flags, exit codes, config errors, the terminal emulator, hwtest.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCli } from '../firmware/cli-args.js';

const bundle = join(import.meta.dirname, '..', 'dist', 'offhook.mjs');
const dir = mkdtempSync(join(tmpdir(), 'offhook-cli-'));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the bundle with args, writing each input chunk after its delay; the process is ended by its pid if it hangs. */
function run(args: string[], input: { afterMs: number; data: string }[] = [], timeoutMs = 15_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bundle, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
    let t = 0;
    for (const chunk of input) {
      t += chunk.afterMs;
      setTimeout(() => child.stdin.write(chunk.data), t);
    }
    setTimeout(() => child.stdin.end(), t + 50);
  });
}

beforeAll(() => {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`make build\` first (make test does)`);
});

describe('offhook command line', () => {
  it('parses commands and flags', () => {
    expect(parseCli(['--board', 'rpi4', '--config', '/x.yaml', '--log-level', 'debug'])).toEqual({
      kind: 'run',
      options: { board: 'rpi4', config: '/x.yaml', logLevel: 'debug', seconds: 30 },
    });
    expect(parseCli(['hwtest', '--seconds', '5'])).toMatchObject({ kind: 'hwtest', options: { seconds: 5 } });
    expect(parseCli(['--log-level', 'loud'])).toMatchObject({ kind: 'usage-error' });
    expect(parseCli(['dial'])).toEqual({ kind: 'usage-error', message: 'unknown command "dial"' });
    expect(parseCli(['--board', 'emulator', '--phones', '3'])).toMatchObject({ kind: 'run', options: { phones: 3 } });
    expect(parseCli(['--phones', '9'])).toEqual({ kind: 'usage-error', message: '--phones must be a number from 1 to 8, got "9"' });
    expect(parseCli(['--phones', '2', '--config', '/x.yaml'])).toMatchObject({ kind: 'usage-error', message: expect.stringContaining('cannot be combined with --config') });
  });

  it('the emulator without a config file runs the demo: phones 100 and 101, each with its line and state directory', async () => {
    const state = mkdtempSync(join(tmpdir(), 'offhook-cli-demo-'));
    const child = spawn(process.execPath, [bundle, '--board', 'emulator', '--no-ui', '--http-port', '0', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XDG_STATE_HOME: state } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const end = Date.now() + 10_000;
      let url: string | undefined;
      while (!(url = /(http:\/\/\S+\/)api\/state/.exec(out)?.[1]) && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(url, out).toBeDefined();
      const phones = (await (await fetch(`${url}api/phones`)).json()) as { phones: { ext: string }[] };
      expect(phones.phones.map((p) => p.ext)).toEqual(['100', '101']);
      const state101 = (await (await fetch(`${url}api/phones/101/state`)).json()) as { phone: { lines: { aor: string }[] } };
      expect(state101.phone.lines[0]?.aor).toBe('sip:101@127.0.0.1:5161');
    } finally {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(existsSync(join(state, 'offhook', '100'))).toBe(true);
    expect(existsSync(join(state, 'offhook', '101'))).toBe(true);
  });

  it('--help prints the usage and exits 0; --version prints the version', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('offhook hwtest');
    const version = await run(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^offhook \d+\.\d+\.\d+\n$/);
  });

  it('an unknown flag prints the usage and exits 2', async () => {
    const r = await run(['--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--frobnicate'");
    expect(r.stderr).toContain('Usage:');
  });

  it('a broken config file names the field, the line and the column, and exits 1', async () => {
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, 'board: emulator\nlog:\n  level: chatty\n');
    const r = await run(['--config', f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${f}:3:10: log.level: expected one of`);
  });

  it('a broken board file names the field and exits 1', async () => {
    const f = join(dir, 'board.yaml');
    writeFileSync(f, 'name: mine\nhook: { type: gpio, pin: 999 }\n');
    const r = await run(['--board', f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${f}:2:26: hook.pin: expected an integer from 0 to 511, got 999`);
  });

  it('runs the emulator in the terminal: the idle screen, keys typed on stdin, the hook', async () => {
    const r = await run(['--board', 'emulator', '--ui', 'terminal', '--log-level', 'warn'], [
      { afterMs: 400, data: '1001' },
      { afterMs: 100, data: 'h' },
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('|No account          |');
    expect(r.stdout).toMatch(/\|\w{3} \d{1,2} \w{3} +\d\d:\d\d\|/);
    expect(r.stdout).toContain('|Number:             |\n|1001                |');
    expect(r.stdout).toContain('|☎ Dialing           |\n|1001                |');
    expect(r.stdout).toContain('hook: OFF HOOK');
    expect(r.stdout).toMatch(/line \(\*\)/);
  });

  it('hwtest on the emulator board finds the LCD, echoes a key and the hook, and passes', async () => {
    const r = await run(['hwtest', '--board', 'emulator', '--seconds', '2', '--log-level', 'warn'], [{ afterMs: 2_900, data: '7h' }]);
    expect(r.stdout).toContain('[ ok ] I2C bus i2c-1: found 0x27; the hd44780 at 0x27 answers');
    expect(r.stdout).toContain('[ ok ] display hd44780 20x4 at 0x27');
    expect(r.stdout).toContain('key 7 down');
    expect(r.stdout).toContain('hook off hook');
    expect(r.stdout).toContain('result: PASS');
    expect(r.code).toBe(0);
  });

  it('hwtest on a board whose devices are missing reports each one and exits 1', async () => {
    const r = await run(['hwtest', '--board', 'rpi4', '--seconds', '0', '--log-level', 'silent']);
    expect(r.stdout).toMatch(/\[FAIL\] display: .*\/dev\/i2c-1/);
    expect(r.stdout).toMatch(/\[FAIL\] gpio: /);
    expect(r.stdout).toContain('result: FAIL (2 devices failed)');
    expect(r.code).toBe(1);
  });
});
