// Volume and mute in the native engine: per-path speaker and microphone gains (ramped, ringer apart), and the microphone mute.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MediaEngineError } from '../../../firmware/media/media-engine.js';
import { EnginePair } from '../support/engine-pair.js';
import { blockTone, samplesOf, toneLevelDbfs } from '../support/goertzel.js';
import { VirtualEngines } from '../support/virtual-engines.js';
import { readWav, sine, writeWav } from '../support/wav-file.js';

const RATE = 16000;

/** The largest step between neighbouring samples over [fromMs, toMs): a click shows as a jump. */
function maxStep(samples: Int16Array, fromMs: number, toMs: number): number {
  let max = 0;
  for (let i = samplesOf(fromMs, RATE) + 1; i < samplesOf(toMs, RATE); i++) max = Math.max(max, Math.abs((samples[i] ?? 0) - (samples[i - 1] ?? 0)));
  return max;
}

function level(samples: Int16Array, hz: number, fromMs: number, toMs: number): number {
  return toneLevelDbfs(samples, RATE, hz, samplesOf(fromMs, RATE), samplesOf(toMs, RATE));
}

describe('speaker gain on one engine', () => {
  let ve: VirtualEngines;
  beforeEach(() => {
    ve = new VirtualEngines();
  });
  afterEach(() => {
    ve.dispose();
  });

  it('−20 dB lowers the tones by 20 dB without a click; the ringer keeps its level', async () => {
    const wav = ve.path('speaker.wav');
    const ringWav = ve.path('ring.wav');
    writeWav(ringWav, { sampleRateHz: RATE, samples: sine(1250, 1000, RATE, -20) });
    const t = ve.open({ sampleRateHz: RATE, audio: { backend: 'file', playbackWavPath: wav } });
    t.engine.playTone({ spec: { segments: [{ durationMs: 0, frequenciesHz: [600], levelDbm0: -10 }], repeat: false } });
    t.engine.advance(1000);
    t.engine.setGains({ path: 'handset', speakerGainDb: -20 });
    t.engine.advance(1000);
    t.engine.ring({ wav: ringWav });
    t.engine.advance(1000);
    t.engine.setGains({ path: 'handset', speakerGainDb: 0 });
    t.engine.advance(1000);
    await ve.close();
    const samples = readWav(wav).samples;

    const before = level(samples, 600, 200, 1000);
    const after = level(samples, 600, 1100, 2000);
    expect(before).toBeGreaterThan(-20);
    expect(before - after).toBeGreaterThan(19.5);
    expect(before - after).toBeLessThan(20.5);
    // The change ramps over one period: no step larger than the tone's own around it.
    expect(maxStep(samples, 980, 1030)).toBeLessThanOrEqual(maxStep(samples, 500, 900) + 1);
    // The ringer (its own level, −20 dBFS) is not scaled by the volume; the tone is, until it goes back to 0 dB.
    expect(level(samples, 1250, 2100, 3000)).toBeCloseTo(-20, 0);
    expect(level(samples, 1250, 3100, 4000)).toBeCloseTo(-20, 0);
    expect(level(samples, 600, 3100, 4000)).toBeCloseTo(before, 0);
  });

  it('checks and clamps its arguments', () => {
    const t = ve.open({ sampleRateHz: RATE, audio: { backend: 'null' } });
    expect(() => t.engine.setGains({ path: 'car' as 'handset', speakerGainDb: 0 })).toThrow(MediaEngineError);
    expect(() => t.engine.setGains({ path: 'handset', micGainDb: Number.NaN })).toThrow(/gains\.micGainDb/);
    expect(() => t.engine.setMuted('yes' as unknown as boolean)).toThrow(MediaEngineError);
    // Out of range is clamped (−40..+20), not refused.
    t.engine.setGains({ path: 'speaker', micGainDb: 100, speakerGainDb: -100 });
    t.engine.setMuted(true);
    t.engine.advance(20);
  });
});

describe('two engines: mute and per-path gains', () => {
  let pair: EnginePair | undefined;
  afterEach(async () => {
    await pair?.close();
    pair?.dispose();
    pair = undefined;
  });

  it('mute: the far end hears no tone while the near end still hears the far end; unmute restores', async () => {
    pair = await EnginePair.open({ codec: { name: 'PCMU' }, sampleRateHz: RATE, toneA: 1000, toneB: 440, seed: 11 });
    await pair.run(1000);
    pair.a.engine.setMuted(true);
    await pair.run(1000);
    pair.a.engine.setMuted(false);
    await pair.run(1000);
    const { a, b } = await pair.close();

    const bHears = (from: number, to: number) => blockTone(b.samples, RATE, 1000, from, to).meanLevelDbfs;
    const aHears = (from: number, to: number) => blockTone(a.samples, RATE, 440, from, to).meanLevelDbfs;
    expect(bHears(300, 1000)).toBeGreaterThan(-13);
    expect(bHears(1300, 2000)).toBeLessThan(-70); // muted: A sends silence
    expect(aHears(1300, 2000)).toBeGreaterThan(-13); // A still hears B
    expect(bHears(2300, 3000)).toBeGreaterThan(-13);
  });

  it('gains are per path: set for the speaker, they apply when setAudioPath switches to it', async () => {
    pair = await EnginePair.open({ codec: { name: 'PCMU' }, sampleRateHz: RATE, toneA: 1000, toneB: 440, seed: 12 });
    await pair.run(1000);
    // On A: the speaker path plays 20 dB lower and sends 10 dB lower; A is on the handset for now.
    pair.a.engine.setGains({ path: 'speaker', speakerGainDb: -20, micGainDb: -10 });
    await pair.run(1000);
    pair.a.engine.setAudioPath('speaker');
    await pair.run(1000);
    pair.a.engine.setAudioPath('handset');
    await pair.run(1000);
    const { a, b } = await pair.close();

    const aHears = (from: number, to: number) => blockTone(a.samples, RATE, 440, from, to).meanLevelDbfs;
    const bHears = (from: number, to: number) => blockTone(b.samples, RATE, 1000, from, to).meanLevelDbfs;
    const handsetA = aHears(1300, 2000);
    const handsetB = bHears(1300, 2000);
    expect(handsetA).toBeCloseTo(aHears(300, 1000), 0); // unchanged while on the handset
    expect(handsetA - aHears(2300, 3000)).toBeGreaterThan(19);
    expect(handsetA - aHears(2300, 3000)).toBeLessThan(21);
    expect(handsetB - bHears(2300, 3000)).toBeGreaterThan(9); // G.711 at −22 dBFS: within a dB
    expect(handsetB - bHears(2300, 3000)).toBeLessThan(11);
    expect(aHears(3300, 4000)).toBeCloseTo(handsetA, 0); // back on the handset
    expect(bHears(3300, 4000)).toBeCloseTo(handsetB, 0);
  });
});
