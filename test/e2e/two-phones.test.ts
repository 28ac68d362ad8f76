// The two-phone emulator in real Chromium: the bundle runs phones 100 and 101 calling each other over SIP on 127.0.0.1; the page lifts 100, dials 101 #, answers on 101, hears 100's 1 kHz microphone in 101's speaker WAV, hangs up; a screenshot goes to test-artifacts/.
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PhoneStatus } from '../../firmware/emulator/phone-status.js';
import { blockTone } from '../media/support/goertzel.js';
import { readWav, sine, writeWav } from '../media/support/wav-file.js';
import { ARTIFACTS, TwoPhoneEmulator, lcd, unit, wavWrittenMs } from './support/two-phone-emulator.js';

/** Phone 100's microphone; the engine's rate (16 kHz unless Opus is fullband) is the WAVs'. */
const MIC_HZ = 1000;
const ENGINE_RATE_HZ = 16000;
const LISTEN_MS = 1500;

const dir = mkdtempSync(join(tmpdir(), 'offhook-two-phones-'));
const micWav = join(dir, 'mic-1khz.wav');
const speakerWav = join(dir, 'speaker-101.wav');
const stateDir = join(dir, 'state');

let emulator: TwoPhoneEmulator | undefined;

beforeAll(async () => {
  writeWav(micWav, { sampleRateHz: ENGINE_RATE_HZ, samples: sine(MIC_HZ, 1000, ENGINE_RATE_HZ) });
  emulator = await TwoPhoneEmulator.start({
    dir,
    logLevel: 'warn',
    audio: { '100': `{ backend: file, capture: "${micWav}" }`, '101': `{ backend: file, playback: "${speakerWav}" }` },
  });
}, 20_000);

// Ended by its pid, if the test did not end it itself.
afterAll(() => emulator?.stop());

async function apiPhone(ext: string): Promise<PhoneStatus> {
  return ((await (await fetch(`${emulator!.url}api/phones/${ext}/state`)).json()) as { phone: PhoneStatus }).phone;
}
/** The call timer of a Connected screen ("Connected      00:02" → 2 s), undefined on any other screen. */
function timerOf(text: string): number | undefined {
  const m = /Connected\s+(\d+):(\d\d)/.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}
/** How much the engine has written to 101's speaker WAV so far, ms. */
const playedMs = (): number => wavWrittenMs(speakerWav, ENGINE_RATE_HZ);

describe('two emulated phones on one page, in Chromium', () => {
  it('100 lifts and dials 101 #; 101 rings and answers; both Connected with a running timer; 1 kHz from 100 reaches 101; both hang up; the history has the call', async () => {
    const page = await emulator!.browser.newPage({ viewport: { width: 1560, height: 760 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(emulator!.url);
    await expect.poll(() => page.locator('body').getAttribute('data-connected')).toBe('true');
    expect(await page.locator('.unit').count()).toBe(2);
    await expect.poll(() => lcd(page, '100')).toContain('Line 100');
    await expect.poll(() => lcd(page, '101')).toContain('Line 101');

    // Phone 100: lift, dial 101 and send.
    const p100 = unit(page, '100');
    const p101 = unit(page, '101');
    await p100.locator('.handset').click();
    await expect.poll(() => lcd(page, '100')).toContain('Dial tone');
    for (const k of ['1', '0', '1', '#']) await p100.locator(`.key[data-key="${k}"]`).click();

    // Phone 101 rings with the caller on its LCD.
    await expect.poll(() => lcd(page, '101')).toMatch(/Incoming call[\s\S]*100/);
    await expect.poll(() => p101.getAttribute('data-ringing')).toBe('true');
    expect((await apiPhone('101')).calls).toEqual([expect.objectContaining({ direction: 'incoming', state: 'ringing', remote: '100' })]);

    // Phone 101 answers: both Connected, with timers that run.
    await p101.locator('.handset').click();
    await expect.poll(() => lcd(page, '100')).toMatch(/Connected\s+\d\d:\d\d/);
    await expect.poll(() => lcd(page, '101')).toMatch(/Connected\s+\d\d:\d\d/);
    expect(await p101.getAttribute('data-ringing')).toBe('false');
    expect((await apiPhone('100')).calls).toEqual([expect.objectContaining({ direction: 'outgoing', state: 'connected', remote: '101' })]);
    const startedAt = [timerOf(await lcd(page, '100')) ?? -1, timerOf(await lcd(page, '101')) ?? -1];

    // 100's microphone in 101's speaker: LISTEN_MS of it, after half a second for the jitter buffer.
    const from = playedMs() + 500;
    await emulator!.waitFor('101\'s speaker WAV to grow', () => (playedMs() >= from + LISTEN_MS + 100 ? true : undefined), LISTEN_MS + 5000);
    await expect.poll(async () => (timerOf(await lcd(page, '100')) ?? -1) > (startedAt[0] ?? 0)).toBe(true);
    await expect.poll(async () => (timerOf(await lcd(page, '101')) ?? -1) > (startedAt[1] ?? 0)).toBe(true);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'two-phones-connected.png') });
    const wav = readWav(speakerWav);
    const tone = blockTone(wav.samples, wav.sampleRateHz, MIC_HZ, from, from + LISTEN_MS);
    expect(tone.blocks).toBeGreaterThanOrEqual(10);
    expect(tone.goodFraction, JSON.stringify(tone)).toBeGreaterThan(0.9);

    // Both hang up: no call left. 100 hung up a connected call: its LCD shows the call's summary (duration,
    // quality) for 5 s, then the idle screen; 101, whose caller had gone, goes straight to idle.
    await p100.locator('.handset').click();
    await p101.locator('.handset').click();
    for (const ext of ['100', '101']) {
      await expect.poll(() => unit(page, ext).getAttribute('data-off-hook')).toBe('false');
      await expect.poll(async () => (await apiPhone(ext)).calls).toEqual([]);
    }
    await expect.poll(() => lcd(page, '100')).toMatch(/Call ended\s+00:0\d\n101[\s\S]*MOS/);
    await expect.poll(() => lcd(page, '101')).toContain('Line 101');
    await page.screenshot({ path: join(ARTIFACTS, 'two-phones-ended.png') });
    await expect.poll(() => lcd(page, '100'), { timeout: 7000 }).toContain('Line 100');
    expect(errors).toEqual([]);
    await page.close();

    // Stopped by its pid: exit 0, each phone's history written in its own subdirectory of stateDir.
    expect(await emulator!.terminate()).toBe(0);
    const history = (ext: string) => JSON.parse(readFileSync(join(stateDir, ext, 'history.json'), 'utf8')) as { data: Record<string, { number: string; outcome: string }[]> };
    expect(history('100').data.dialed?.[0]).toMatchObject({ number: '101', outcome: 'answered' });
    expect(history('101').data.received?.[0]).toMatchObject({ number: '100', outcome: 'answered' });
  }, 20_000);
});
