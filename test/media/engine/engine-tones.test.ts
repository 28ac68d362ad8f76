// Tones the engine plays on the local speaker: country call-progress tones (frequencies, cadences, levels), DTMF key tones.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MediaEngineEvent, ToneRequest } from '../../../firmware/media/media-engine.js';
import { loadNativeAddon } from '../../../firmware/media/native-addon.js';
import { NativeMediaEngine } from '../../../firmware/media/native-media-engine.js';
import { TONE_COUNTRIES, TONE_NAMES, TONE_TABLES, dtmfFrequencies } from '../../../firmware/media/tones.js';
import { samplesOf, toneLevelDbfs } from '../support/goertzel.js';
import { readWav } from '../support/wav-file.js';

const path = process.env.OFFHOOK_TEST_ADDON;
const addon = loadNativeAddon(path !== undefined ? { path } : {});
const RATE = 8000;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'offhook-tones-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Plays a tone for `ms` on an engine with no stream; returns the speaker's samples and the events. */
async function play(request: ToneRequest, ms: number, stopAtMs?: number): Promise<{ samples: Int16Array; events: MediaEngineEvent[] }> {
  const wav = join(dir, `${Math.random().toString(36).slice(2)}.wav`);
  const engine = new NativeMediaEngine({ addon, clock: 'virtual', sampleRateHz: RATE, audio: { backend: 'file', playbackWavPath: wav } });
  const events: MediaEngineEvent[] = [];
  engine.on('toneEnded', (e) => events.push(e));
  engine.playTone(request);
  if (stopAtMs !== undefined) {
    engine.advance(stopAtMs);
    engine.stopTone();
    engine.advance(ms - stopAtMs);
  } else {
    engine.advance(ms);
  }
  await engine.drainEvents(); // close() drops what was not delivered yet
  engine.close();
  return { samples: readWav(wav).samples, events };
}

/** On/off pattern of a frequency in 10 ms blocks: runs of [on, durationMs]. */
function cadence(samples: Int16Array, hz: number, ms: number): [boolean, number][] {
  const runs: [boolean, number][] = [];
  for (let t = 0; t < ms; t += 10) {
    const on = toneLevelDbfs(samples, RATE, hz, samplesOf(t, RATE), samplesOf(t + 10, RATE)) > -40;
    const last = runs.at(-1);
    if (last && last[0] === on) last[1] += 10;
    else runs.push([on, 10]);
  }
  return runs;
}

/** −13 dBm0 per frequency: 3.17 dB below full scale at 0 dBm0 (G.711), so −16.17 dBFS peak. */
const DBFS_AT_MINUS_13_DBM0 = -13 - 3.17;

describe('call-progress tones', () => {
  it('German busy tone: 425 Hz, 480 ms on, 480 ms off, at −13 dBm0 (1 TR 110, E.180 Suppl. 2)', async () => {
    const { samples } = await play({ tone: 'busy', country: 'DE' }, 3000);
    const runs = cadence(samples, 425, 2880);
    expect(runs.slice(0, 6)).toEqual([
      [true, 480],
      [false, 480],
      [true, 480],
      [false, 480],
      [true, 480],
      [false, 480],
    ]);
    const level = toneLevelDbfs(samples, RATE, 425, samplesOf(100, RATE), samplesOf(400, RATE));
    expect(level).toBeCloseTo(DBFS_AT_MINUS_13_DBM0, 0);
    expect(toneLevelDbfs(samples, RATE, 440, samplesOf(100, RATE), samplesOf(400, RATE))).toBeLessThan(level - 20);
  });

  it('US dial tone: 350 + 440 Hz continuous, both at −13 dBm0; stopTone() silences it', async () => {
    const { samples } = await play({ tone: 'dial', country: 'US' }, 1500, 1000);
    for (const hz of [350, 440]) {
      expect(toneLevelDbfs(samples, RATE, hz, samplesOf(0, RATE), samplesOf(1000, RATE))).toBeCloseTo(DBFS_AT_MINUS_13_DBM0, 0);
      expect(toneLevelDbfs(samples, RATE, hz, samplesOf(1010, RATE), samplesOf(1500, RATE))).toBe(-Infinity);
    }
    expect(cadence(samples, 350, 1000)).toEqual([[true, 1000]]);
  });

  it('UK ringback: 400 + 450 Hz, 0.4 on, 0.2 off, 0.4 on, 2.0 off (SIN 350)', async () => {
    const { samples } = await play({ tone: 'ringback', country: 'UK' }, 3000);
    expect(cadence(samples, 450, 3000)).toEqual([
      [true, 400],
      [false, 200],
      [true, 400],
      [false, 2000],
    ]);
  });

  it('Japanese ringback: 400 Hz modulated by 16 Hz, 1 s on, 2 s off', async () => {
    const { samples } = await play({ tone: 'ringback', country: 'JP' }, 3000);
    const on = [samplesOf(0, RATE), samplesOf(1000, RATE)] as const;
    const carrier = toneLevelDbfs(samples, RATE, 400, ...on);
    // Amplitude modulation puts sidebands at 400 ± 16 Hz; a plain 400 Hz tone would have none.
    expect(toneLevelDbfs(samples, RATE, 384, ...on)).toBeGreaterThan(carrier - 12);
    expect(toneLevelDbfs(samples, RATE, 416, ...on)).toBeGreaterThan(carrier - 12);
    expect(toneLevelDbfs(samples, RATE, 400, samplesOf(1100, RATE), samplesOf(2900, RATE))).toBe(-Infinity);
  });

  it('a tone that does not repeat ends by itself with a toneEnded event (confirmation, FR)', async () => {
    const { samples, events } = await play({ tone: 'confirmation', country: 'FR' }, 1000);
    expect(cadence(samples, 440, 1000)).toEqual([
      [true, 100],
      [false, 100],
      [true, 100],
      [false, 100],
      [true, 100],
      [false, 500],
    ]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'toneEnded' });
  });

  it('every country has every tone, each with its source', () => {
    for (const country of TONE_COUNTRIES) {
      for (const tone of TONE_NAMES) {
        const t = TONE_TABLES[country][tone];
        expect(t.source.length).toBeGreaterThan(10);
        expect(t.segments.length).toBeGreaterThan(0);
        expect(t.segments.every((s) => s.frequenciesHz.every((hz) => hz > 0 && hz < 4000))).toBe(true);
      }
    }
  });
});

describe('DTMF key tones (ITU-T Q.23)', () => {
  it('5 plays 770 + 1336 Hz for the requested time, and nothing of the other digits', async () => {
    expect(dtmfFrequencies('5')).toEqual([770, 1336]);
    const { samples, events } = await play({ dtmf: '5', durationMs: 120 }, 300);
    const on = [samplesOf(0, RATE), samplesOf(120, RATE)] as const;
    expect(toneLevelDbfs(samples, RATE, 770, ...on)).toBeGreaterThan(-20);
    expect(toneLevelDbfs(samples, RATE, 1336, ...on)).toBeGreaterThan(-20);
    for (const hz of [697, 852, 941, 1209, 1477, 1633]) expect(toneLevelDbfs(samples, RATE, hz, ...on)).toBeLessThan(-45);
    expect(cadence(samples, 770, 300)).toEqual([
      [true, 120],
      [false, 180],
    ]);
    expect(events).toHaveLength(1);
  });

  it('refuses a tone the engine cannot play, with the field named', () => {
    const engine = new NativeMediaEngine({ addon, clock: 'virtual', sampleRateHz: RATE, audio: { backend: 'null' } });
    try {
      expect(() => engine.playTone({ spec: { segments: [{ durationMs: 100, frequenciesHz: [5000] }], repeat: false } })).toThrow(
        expect.objectContaining({ code: 'ERR_MEDIA_CONFIG', message: expect.stringMatching(/frequenciesHz/) }),
      );
      expect(() => engine.playTone({ dtmf: 'X' as '1' })).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CONFIG', field: 'dtmf' }));
    } finally {
      engine.close();
    }
  });
});
