// The page's microphone and speaker in real Chromium: phone 100 on browser audio calls 101 (a 440 Hz WAV microphone, a WAV speaker); Chromium's fake microphone (a 1 kHz WAV) reaches 101's speaker WAV, and 101's 440 Hz reaches what the page's audio worklet played; a screenshot goes to test-artifacts/.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockTone } from '../media/support/goertzel.js';
import { readWav, sine, writeWav } from '../media/support/wav-file.js';
import { ARTIFACTS, TwoPhoneEmulator, launchChromium, lcd, unit, wavWrittenMs } from './support/two-phone-emulator.js';

/** The page's microphone (Chromium's fake device plays this WAV), and 101's. */
const PAGE_MIC_HZ = 1000;
const PHONE_MIC_HZ = 440;
const ENGINE_RATE_HZ = 16000;
const LISTEN_MS = 1500;

const dir = mkdtempSync(join(tmpdir(), 'offhook-browser-audio-'));
const pageMicWav = join(dir, 'page-mic-1khz.wav');
const micWav101 = join(dir, 'mic-101-440hz.wav');
const speakerWav101 = join(dir, 'speaker-101.wav');

let emulator: TwoPhoneEmulator | undefined;

beforeAll(async () => {
  // Chromium's fake microphone plays this WAV in a loop (at its own rate: 48 kHz, as a sound card).
  writeWav(pageMicWav, { sampleRateHz: 48000, samples: sine(PAGE_MIC_HZ, 2000, 48000) });
  writeWav(micWav101, { sampleRateHz: ENGINE_RATE_HZ, samples: sine(PHONE_MIC_HZ, 1000, ENGINE_RATE_HZ) });
  emulator = await TwoPhoneEmulator.start({
    dir,
    logLevel: 'info',
    audio: { '100': '{ backend: browser }', '101': `{ backend: file, capture: "${micWav101}", playback: "${speakerWav101}" }` },
    chromiumArgs: [
      // The permission prompt answered yes, and a fake microphone that plays the WAV.
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${pageMicWav}`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}, 20_000);

afterAll(() => emulator?.stop());

const playedMs = (): number => wavWrittenMs(speakerWav101, ENGINE_RATE_HZ);

interface Probe {
  sampleRate: number;
  contextState: string;
  owner: string | null;
  mic: string;
  queued: number;
  badFrames: number;
  stats: { receivedSamples: number; playedSamples: number; silentSamples: number; underruns: number; overflowSamples: number; capturedFrames: number };
  recent: number[];
}

/** What the page's audio worklet has played: its counters and the last two seconds of its output. */
async function probe(page: Page): Promise<Probe> {
  const p = await page.evaluate(() => (globalThis as unknown as { offhookAudio: { probe(): Promise<unknown> } }).offhookAudio.probe());
  return p as Probe;
}

describe('the page\'s microphone and speaker, in Chromium', () => {
  it('a microphone the browser refuses: the page says so and plays the phone anyway; keys and handset keep working', async () => {
    // Another Chromium, one that answers every permission prompt with no.
    const denying = await launchChromium(['--use-fake-device-for-media-stream', '--deny-permission-prompts']);
    try {
      const page = await denying.newPage({ viewport: { width: 1560, height: 820 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(emulator!.url);
      await expect.poll(() => page.locator('body').getAttribute('data-connected')).toBe('true');
      const p100 = unit(page, '100');
      await p100.locator('.handset').click();
      await expect.poll(() => p100.getAttribute('data-mic')).toBe('blocked');
      expect(await p100.getAttribute('data-audio')).toBe('on');
      const text = (await p100.locator('.audio-text').textContent()) ?? '';
      expect(text).toContain('speaker only');
      expect(text).toContain('the microphone is blocked');
      expect(await p100.locator('.audio-text').getAttribute('class')).toContain('problem');
      // The speaker works (dial tone in the worklet), and so do the keys.
      await expect.poll(async () => (await probe(page)).stats.playedSamples, { timeout: 5000 }).toBeGreaterThan(4800);
      expect((await probe(page)).stats.capturedFrames).toBe(0);
      await p100.locator('.key[data-key="5"]').click();
      await expect.poll(() => lcd(page, '100')).toContain('5');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'browser-audio-mic-blocked.png') });
      await p100.locator('.handset').click();
      await expect.poll(() => p100.getAttribute('data-off-hook')).toBe('false');
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await denying.close();
    }
  }, 20_000);

  it('100 lifts (the page takes its audio), calls 101; the fake microphone\'s 1 kHz reaches 101\'s speaker, 101\'s 440 Hz reaches the page\'s worklet', async () => {
    const page = await emulator!.browser.newPage({ viewport: { width: 1560, height: 820 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(emulator!.url);
    await expect.poll(() => page.locator('body').getAttribute('data-connected')).toBe('true');
    const p100 = unit(page, '100');
    const p101 = unit(page, '101');
    // Only 100's audio can be the page's: its button shows, 101's does not.
    await expect.poll(() => p100.locator('.audio-button').isVisible()).toBe(true);
    expect(await p101.locator('.audio-button').isVisible()).toBe(false);
    expect(await p100.locator('.audio-text').textContent()).toContain('Audio off');

    // Lifting 100's handset gives it the page's microphone and speaker: dial tone plays in the worklet.
    await p100.locator('.handset').click();
    await expect.poll(() => lcd(page, '100')).toContain('Dial tone');
    await expect.poll(() => p100.getAttribute('data-audio')).toBe('on');
    await expect.poll(() => p100.getAttribute('data-mic')).toBe('on');
    expect(await p100.locator('.audio-text').textContent()).toContain('microphone and speaker');
    await expect.poll(async () => (await probe(page)).stats.playedSamples, { timeout: 5000 }).toBeGreaterThan(4800);

    // The call: 100 dials 101, 101 answers.
    for (const k of ['1', '0', '1', '#']) await p100.locator(`.key[data-key="${k}"]`).click();
    await expect.poll(() => p101.getAttribute('data-ringing')).toBe('true');
    await p101.locator('.handset').click();
    await expect.poll(() => lcd(page, '100')).toMatch(/Connected\s+\d\d:\d\d/);
    await expect.poll(() => lcd(page, '101')).toMatch(/Connected\s+\d\d:\d\d/);

    // Up: the fake microphone → worklet → WebSocket → engine 100 → RTP → engine 101's speaker WAV.
    const from = playedMs() + 700;
    await emulator!.waitFor('101\'s speaker WAV to grow', () => (playedMs() >= from + LISTEN_MS + 100 ? true : undefined), LISTEN_MS + 5000);
    const wav = readWav(speakerWav101);
    const up = blockTone(wav.samples, wav.sampleRateHz, PAGE_MIC_HZ, from, from + LISTEN_MS);
    expect(up.blocks).toBeGreaterThanOrEqual(10);
    expect(up.goodFraction, JSON.stringify(up)).toBeGreaterThan(0.9);

    // Down: 101's WAV microphone → RTP → engine 100's speaker → WebSocket → what the worklet played.
    const heard = await probe(page);
    expect(heard).toMatchObject({ contextState: 'running', owner: '100', mic: 'on', badFrames: 0 });
    const rate = heard.sampleRate;
    const played = Int16Array.from(heard.recent, (v) => Math.round(v * 32767));
    const down = blockTone(played, rate, PHONE_MIC_HZ, 100, 1900);
    expect(down.blocks).toBeGreaterThanOrEqual(18);
    expect(down.goodFraction, JSON.stringify({ down, stats: heard.stats })).toBeGreaterThanOrEqual(0.85);
    expect(heard.stats.overflowSamples).toBe(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'browser-audio-connected.png') });

    // Audio off on 100: the page lets go, the worklet plays nothing more from the phone.
    await p100.locator('.audio-button').click();
    await expect.poll(() => p100.getAttribute('data-audio')).toBe('off');
    expect(await p100.locator('.audio-text').textContent()).toContain('Audio off');
    const before = (await probe(page)).stats.receivedSamples;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await probe(page)).stats.receivedSamples).toBe(before);

    await p100.locator('.handset').click();
    await p101.locator('.handset').click();
    for (const ext of ['100', '101']) await expect.poll(() => unit(page, ext).getAttribute('data-off-hook')).toBe('false');
    expect(errors).toEqual([]);
    await page.close();
    expect(await emulator!.terminate()).toBe(0);
    // The server logged the page's link when audio went off: frames both ways, none dropped.
    const link = emulator!.stderr.split('\n').filter((l) => l.includes('let go of the phone')).at(-1);
    expect(link).toBeDefined();
    const counters = JSON.parse(link!) as { captureFrames: number; captureDropped: number; playbackFrames: number; playbackDropped: number };
    expect(counters.captureFrames).toBeGreaterThan(100);
    expect(counters.playbackFrames).toBeGreaterThan(100);
    expect(counters.captureDropped).toBe(0);
    expect(counters.playbackDropped).toBe(0);
  }, 45_000);
});
