// The bundle's two-phone emulator and Chromium for the end-to-end tests: phones 100 and 101 calling each other by address on 127.0.0.1 (each with the audio the test gives it), the page's URL from the process's output, the browser, and their end by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const BUNDLE = join(import.meta.dirname, '..', '..', '..', 'dist', 'offhook.mjs');
export const ARTIFACTS = join(import.meta.dirname, '..', '..', '..', 'test-artifacts', 'e2e');
/** The flags every test's Chromium runs with (no sandbox as root, no network beyond the page). */
const BASE_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** A TCP port nothing listens on now (the phones take it for UDP and TCP). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface TwoPhoneOptions {
  /** The test's temporary folder: the config goes there, the phones' state in `<dir>/state`. */
  dir: string;
  /** Each phone's `media.audio` as YAML flow text, e.g. `{ backend: file, capture: "..." }`. */
  audio: { '100': string; '101': string };
  logLevel: 'warn' | 'info';
  /** More Chromium flags (fake media devices, autoplay). */
  chromiumArgs?: readonly string[];
}

/** Debian's Chromium with the flags every test needs, plus `args`. */
export function launchChromium(args: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...BASE_ARGS, ...args] });
}

/** The config a user would write for two phones that call each other by address, with the test's audio. */
function configText(o: TwoPhoneOptions, p100: number, p101: number): string {
  const phone = (ext: '100' | '101', port: number): string[] => [
    `  - name: "${ext}"`,
    `    accounts: [{ aor: "sip:${ext}@127.0.0.1:${port}", password: "", displayName: "Phone ${ext}", register: false, mwi: "off" }]`,
    `    sip: { listen: [{ transport: udp, address: 127.0.0.1, port: ${port} }, { transport: tcp, address: 127.0.0.1, port: ${port} }] }`,
    `    media: { audio: ${o.audio[ext]} }`,
  ];
  return [
    `log: { level: ${o.logLevel} }`,
    `stateDir: ${join(o.dir, 'state')}`,
    'sip: { acceptCallsFrom: any }',
    'dialPlan:',
    '  directory:',
    `    "100": sip:100@127.0.0.1:${p100}`,
    `    "101": sip:101@127.0.0.1:${p101}`,
    'phones:',
    ...phone('100', p100),
    ...phone('101', p101),
    '',
  ].join('\n');
}

/** The running emulator and browser of one test file. */
export class TwoPhoneEmulator {
  /** The page, e.g. http://127.0.0.1:PORT/ */
  url = '';
  /** The process's exit code, once it exits. */
  readonly exited: Promise<number | null>;
  private stdoutText = '';
  private stderrText = '';
  private launched: Browser | undefined;

  private constructor(readonly child: ChildProcess & { stdout: Readable; stderr: Readable }) {
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    child.stdout.on('data', (d: Buffer) => (this.stdoutText += d.toString()));
    child.stderr.on('data', (d: Buffer) => (this.stderrText += d.toString()));
  }

  /** Starts the bundle on the emulator board and Chromium; resolves when the page's URL is known. */
  static async start(o: TwoPhoneOptions): Promise<TwoPhoneEmulator> {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: \`make deps\` installs the Debian package chromium`);
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`make build\` (or node scripts/build.mjs)`);
    const p100 = await freePort();
    let p101 = await freePort();
    while (p101 === p100) p101 = await freePort();
    const file = join(o.dir, 'offhook.yaml');
    writeFileSync(file, configText(o, p100, p101));
    const run = new TwoPhoneEmulator(spawn(process.execPath, [BUNDLE, '--board', 'emulator', '--http-port', '0', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] }));
    try {
      run.launched = await launchChromium(o.chromiumArgs);
      run.url = await run.waitFor('the page URL', () => /the 2 emulated phones are at (http:\/\/\S+)/.exec(run.stdoutText)?.[1], 10_000);
    } catch (e) {
      await run.stop();
      throw e;
    }
    return run;
  }

  get browser(): Browser {
    if (!this.launched) throw new Error('Chromium is not running');
    return this.launched;
  }

  /** What the process wrote to stderr (its log) so far. */
  get stderr(): string {
    return this.stderrText;
  }

  /** Polls until `probe` gives a value; the error carries the end of the process's log. */
  async waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what} (stderr: ${this.stderrText.slice(-2000)})`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** SIGTERM to the process (by its pid) and its exit code. */
  async terminate(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.pid !== undefined) process.kill(this.child.pid, 'SIGTERM');
    return this.exited;
  }

  /** The browser closed and the process ended, if the test did not end it itself. */
  async stop(): Promise<void> {
    await this.launched?.close();
    await this.terminate();
  }
}

/** A phone on the page: its section. */
export function unit(page: Page, ext: string): Locator {
  return page.locator(`.unit[data-ext="${ext}"]`);
}

/** The LCD's rows as the page shows them (its text mirror of the canvas). */
export async function lcd(page: Page, ext: string): Promise<string> {
  return (await unit(page, ext).locator('.lcd-text').textContent()) ?? '';
}

/** How much the engine has written to a 16-bit mono WAV so far, ms. */
export function wavWrittenMs(file: string, rateHz: number): number {
  try {
    return ((statSync(file).size - 44) / 2 / rateHz) * 1000;
  } catch {
    return 0;
  }
}
