// The ringer through the speaker: country cadences with the trill, WAV ring tones (resampled, looped), mixed into the playback path only.
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RING_CADENCES } from '../../../firmware/media/tones.js';
import { rmsDbfs, samplesOf, toneLevelDbfs } from '../support/goertzel.js';
import { VirtualEngines, type TestEngine } from '../support/virtual-engines.js';
import { readWav, sine, writeWav } from '../support/wav-file.js';

const RATE = 16000;
let ve: VirtualEngines;
beforeEach(() => {
  ve = new VirtualEngines();
});
afterEach(() => {
  ve.dispose();
});

function speakerEngine(name: string): { t: TestEngine; wav: string } {
  const wav = ve.path(`${name}.wav`);
  return { t: ve.open({ sampleRateHz: RATE, audio: { backend: 'file', playbackWavPath: wav } }), wav };
}

/** On/off runs of the speaker's level in 10 ms blocks (on: above −40 dBFS RMS). */
function cadence(samples: Int16Array, ms: number): [boolean, number][] {
  const runs: [boolean, number][] = [];
  for (let t = 0; t < ms; t += 10) {
    const on = rmsDbfs(samples, samplesOf(t, RATE), samplesOf(t + 10, RATE)) > -40;
    const last = runs.at(-1);
    if (last && last[0] === on) last[1] += 10;
    else runs.push([on, 10]);
  }
  return runs;
}

describe('ringing a cadence', () => {
  it('Germany: 1 s on, 4 s off, a 1000/1250 Hz trill at −10 dBm0; never sent to the far end', async () => {
    const { t: near, wav } = speakerEngine('near');
    const farWav = ve.path('far.wav');
    const far = ve.open({ sampleRateHz: RATE, audio: { backend: 'file', playbackWavPath: farWav } });
    ve.connect(near, far);
    near.engine.ring({ country: 'DE' });
    ve.step([near, far], 6000);
    await ve.close();
    const samples = readWav(wav).samples;
    expect(RING_CADENCES.DE.onOffMs).toEqual([1000, 4000]);
    expect(cadence(samples, 6000)).toEqual([
      [true, 1000],
      [false, 4000],
      [true, 1000],
    ]);
    // The trill: 1000 Hz and 1250 Hz take turns every 25 ms (slot k of the first burst is [25k, 25k + 25) ms).
    for (let k = 1; k < 39; k++) {
      const slot = [samplesOf(25 * k + 2, RATE), samplesOf(25 * k + 23, RATE)] as const;
      const [now, other] = k % 2 === 0 ? [1000, 1250] : [1250, 1000];
      const level = toneLevelDbfs(samples, RATE, now, ...slot);
      expect(level, `slot ${k}`).toBeGreaterThan(-15);
      expect(toneLevelDbfs(samples, RATE, other, ...slot), `slot ${k}`).toBeLessThan(level - 10);
    }
    // −10 dBm0 is a peak of −13.17 dBFS (G.711: 0 dBm0 is 3.17 dB below full scale): −16.17 dBFS RMS.
    const rms = rmsDbfs(samples, samplesOf(100, RATE), samplesOf(900, RATE));
    expect(rms).toBeCloseTo(-16.17, 0);
    // The ringer is for the local speaker only.
    expect(rmsDbfs(readWav(farWav).samples)).toBe(-Infinity);
  });

  it('United Kingdom double ring (0.4 on, 0.2 off, 0.4 on, 2.0 off); stopRing() silences; a tone plays alongside', async () => {
    const { t, wav } = speakerEngine('uk');
    t.engine.ring({ country: 'UK', frequenciesHz: [800] });
    t.engine.advance(3500);
    t.engine.playTone({ spec: { segments: [{ durationMs: 0, frequenciesHz: [440] }], repeat: true } });
    t.engine.advance(500); // 3000–3400 rings again, with the 440 Hz tone from 3500 on
    t.engine.stopRing();
    t.engine.advance(500);
    await ve.close();
    const samples = readWav(wav).samples;
    expect(cadence(samples, 3000)).toEqual([
      [true, 400],
      [false, 200],
      [true, 400],
      [false, 2000],
    ]);
    const both = [samplesOf(3500, RATE), samplesOf(3800, RATE)] as const;
    expect(toneLevelDbfs(samples, RATE, 800, samplesOf(3000, RATE), samplesOf(3400, RATE))).toBeCloseTo(-13.17, 0);
    expect(toneLevelDbfs(samples, RATE, 440, ...both)).toBeGreaterThan(-20);
    const after = [samplesOf(4010, RATE), samplesOf(4500, RATE)] as const;
    expect(toneLevelDbfs(samples, RATE, 800, ...after)).toBeLessThan(-80);
    expect(toneLevelDbfs(samples, RATE, 440, ...after)).toBeGreaterThan(-20);
  });

  it('refuses a cadence or level it cannot play, naming the field', () => {
    const { t } = speakerEngine('bad');
    expect(() => t.engine.ring({ country: 'DE', cadenceMs: [] })).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CONFIG', field: 'cadenceMs' }));
    expect(() => t.engine.ring({ country: 'XX' as 'DE' })).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CONFIG', field: 'country' }));
    expect(() => t.engine.ring({ country: 'US', frequenciesHz: [9000] })).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CONFIG' }));
  });
});

describe('ringing a WAV file', () => {
  it('a WAV at another rate is converted and looped; with loop: false it plays once; gainDb scales it', async () => {
    const ringWav = ve.path('ring-8k.wav');
    writeWav(ringWav, { sampleRateHz: 8000, samples: sine(700, 300, 8000, -6) });
    const looped = speakerEngine('looped');
    looped.t.engine.ring({ wav: ringWav });
    looped.t.engine.advance(1000);
    const once = speakerEngine('once');
    once.t.engine.ring({ wav: ringWav, loop: false, gainDb: -6 });
    once.t.engine.advance(1000);
    await ve.close();
    const a = readWav(looped.wav).samples;
    const b = readWav(once.wav).samples;
    for (const from of [0, 300, 600]) {
      expect(toneLevelDbfs(a, RATE, 700, samplesOf(from + 20, RATE), samplesOf(from + 280, RATE))).toBeCloseTo(-6, 0);
    }
    expect(toneLevelDbfs(b, RATE, 700, samplesOf(20, RATE), samplesOf(280, RATE))).toBeCloseTo(-12, 0);
    expect(rmsDbfs(b, samplesOf(310, RATE), samplesOf(1000, RATE))).toBeLessThan(-70);
  });

  it('a WAV that cannot be read throws, with the errno; the engine rings on as before', () => {
    const { t } = speakerEngine('missing');
    t.engine.ring({ country: 'FR' });
    expect(() => t.engine.ring({ wav: ve.path('nope.wav') })).toThrow(
      expect.objectContaining({ code: 'ERR_MEDIA_SYSTEM', systemCode: 'ENOENT', address: ve.path('nope.wav') }),
    );
    const notWav = ve.path('not.wav');
    writeFileSync(notWav, 'hello');
    expect(() => t.engine.ring({ wav: notWav })).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CONFIG', message: expect.stringMatching(/RIFF/) }));
  });
});
