// The emulator's page in real Chromium (Debian's, driven by playwright-core): idle screen, handset, keys 1 0 1, Space hangs up; a screenshot goes to test-artifacts/.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBoard } from '../../firmware/config/board.js';
import { defaultConfig } from '../../firmware/config/config.js';
import { startPhone, type RunningPhone } from '../../firmware/main.js';
import { RealClock } from '../../firmware/util/clock.js';
import { silentLogger } from '../../firmware/util/log.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'e2e');

let browser: Browser | undefined;
let running: RunningPhone | undefined;
let url = '';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: \`make deps\` installs the Debian package chromium`);
  // The whole phone, as `offhook --board emulator --http-port 0` starts it, in this process.
  const stdout = new PassThrough();
  let printed = '';
  stdout.on('data', (d: Buffer) => (printed += d.toString()));
  const starting = startPhone({
    config: defaultConfig(),
    board: loadBoard('emulator').profile,
    log: silentLogger(),
    clock: new RealClock(),
    stdin: new PassThrough() as unknown as NodeJS.ReadStream,
    stdout: stdout as unknown as NodeJS.WriteStream,
    terminal: false,
    signals: false,
    web: { port: 0, address: '127.0.0.1', passwordHash: undefined, page: true },
  });
  const [phone, launched] = await Promise.all([
    starting,
    chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] }),
  ]);
  running = phone;
  browser = launched;
  url = /the emulated phone is at (http:\/\/\S+)/.exec(printed)?.[1] ?? '';
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
});

afterAll(async () => {
  await browser?.close();
  await running?.stop();
});

/** The LCD's rows as the page shows them (its text mirror of the canvas); the page's one phone. */
async function lcd(page: Page): Promise<string> {
  return (await page.locator('.unit .lcd-text').textContent()) ?? '';
}

/**
 * Screen pixels in the dot colour inside character cell `col` of the top row (the page's geometry:
 * 10 px margin, 4 px pitch, 6 pitches per cell, 3 px dots; the canvas at device pixel ratio 1).
 */
async function litDots(page: Page, col: number): Promise<number> {
  // A string, evaluated in the page: the test's TypeScript has no DOM types.
  const count = await page.evaluate(`(() => {
    const ctx = document.querySelector('.unit .lcd').getContext('2d');
    let dots = 0;
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 5; x++) {
        const [r, g, b] = ctx.getImageData(10 + ${col} * 24 + x * 4 + 1, 10 + y * 4 + 1, 1, 1).data;
        if (r === 0x1d && g === 0x2a && b === 0x0c) dots++;
      }
    }
    return dots;
  })()`);
  return Number(count);
}

describe('the emulator page in Chromium', () => {
  it('shows the idle screen, lifts the handset, dials 101 and hangs up with Space', async () => {
    const page = await browser!.newPage({ viewport: { width: 900, height: 720 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(url);
    await expect.poll(() => lcd(page)).toContain('No account');
    expect(await page.locator('body').getAttribute('data-connected')).toBe('true');
    // The canvas is drawn dot by dot in 5x8 cells: 'N' lights dots in the first cell.
    expect(await page.locator('.unit').count()).toBe(1);
    expect(await page.locator('.unit').getAttribute('data-ext')).toBe('local');
    expect(await page.locator('.unit .lcd').getAttribute('data-display')).toBe('hd44780');
    expect(await litDots(page, 0)).toBeGreaterThan(10);
    expect(await litDots(page, 2)).toBe(0); // the space of "No account"
    expect(await page.locator('.key').count()).toBe(16);

    await page.click('.unit .handset');
    await expect.poll(() => lcd(page)).toContain('Dial tone');
    // Cell 0 now shows CGRAM glyph 0 (the handset the phone loaded), drawn from the chip's bitmap.
    await expect.poll(() => litDots(page, 0)).toBe(11);
    expect(await page.locator('body').getAttribute('data-off-hook')).toBe('true');
    await expect.poll(() => page.locator('.led[data-led="line"]').getAttribute('class')).toContain('on');

    for (const k of ['1', '0', '1']) await page.click(`.key[data-key="${k}"]`);
    await expect.poll(() => lcd(page)).toMatch(/Dialing\s*\n101 /);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'emulator-dialing.png') });

    await page.keyboard.press('Space');
    await expect.poll(() => page.locator('body').getAttribute('data-off-hook')).toBe('false');
    await expect.poll(() => lcd(page)).toContain('No account');
    await page.screenshot({ path: join(ARTIFACTS, 'emulator-idle.png') });
    expect(running!.hardware.panel?.offHook()).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });
});
