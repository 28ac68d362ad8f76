// Capture processing with speexdsp, end to end between two engines: echo cancellation (ERLE), noise suppression, AGC, per audio path.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AudioProcessingOptions, FileAudioBackendOptions } from '../../../firmware/media/media-engine.js';
import { DEFAULT_AUDIO_PROCESSING } from '../../../firmware/media/media-options.js';
import { rmsDbfs, samplesOf } from '../support/goertzel.js';
import { speechLikeNoise, whiteNoise } from '../support/signals.js';
import { VirtualEngines } from '../support/virtual-engines.js';
import { readWav, writeWav } from '../support/wav-file.js';

const RATE = 16000;
let ve: VirtualEngines;
beforeEach(() => {
  ve = new VirtualEngines();
});
afterEach(() => {
  ve.dispose();
});

interface Run {
  /** What the near end's speaker played (the far end's voice). */
  nearSpeaker: Int16Array;
  /** What the far end heard: the near end's microphone after processing. */
  farSpeaker: Int16Array;
}

/**
 * The near end N (file backend, 16 kHz) in a PCMU call with the far end F. N's microphone is
 * `nearMic` (or silence) plus, with `echo`, its own speaker coming back; F's microphone is `farMic`.
 */
function call(o: {
  processing: AudioProcessingOptions;
  echo?: FileAudioBackendOptions['echo'];
  nearMic?: Int16Array;
  farMic?: Int16Array;
  ms: number;
}): Run {
  const wav = (name: string, samples: Int16Array | undefined) => {
    if (samples === undefined) return {};
    const path = ve.path(`${name}-${Math.random().toString(36).slice(2)}.wav`);
    writeWav(path, { sampleRateHz: RATE, samples });
    return { capture: { wavPath: path } };
  };
  const nearWav = ve.path(`near-${Math.random().toString(36).slice(2)}.wav`);
  const farWav = ve.path(`far-${Math.random().toString(36).slice(2)}.wav`);
  const near = ve.open({
    sampleRateHz: RATE,
    audio: { backend: 'file', ...wav('near-mic', o.nearMic), playbackWavPath: nearWav, ...(o.echo ? { echo: o.echo } : {}) },
    audioPath: 'speaker',
    audioProcessing: { speaker: o.processing },
  });
  const far = ve.open({ sampleRateHz: RATE, audio: { backend: 'file', ...wav('far-mic', o.farMic), playbackWavPath: farWav } });
  ve.connect(near, far);
  ve.step([near, far], o.ms);
  near.engine.close();
  far.engine.close();
  return { nearSpeaker: readWav(nearWav).samples, farSpeaker: readWav(farWav).samples };
}

const OFF: AudioProcessingOptions = { aec: { enabled: false }, noiseSuppressionDb: 0, agc: { enabled: false } };
const window = (fromMs: number, toMs: number) => [samplesOf(fromMs, RATE), samplesOf(toMs, RATE)] as const;

describe('echo cancellation (speexdsp MDF + residual echo suppression)', () => {
  // The far end talks (speech-like noise at −20 dBFS RMS); the near end is silent, but its speaker
  // comes back into its microphone 6 dB weaker and 20 ms (+ one period) later. What the far end then
  // hears is the echo; ERLE = echo level at the microphone − level of what is sent, once converged.
  const farMic = speechLikeNoise({ ms: 6000, sampleRateHz: RATE, rmsDbfs: -20, seed: 5 });
  const echo = { gainDb: -6, delayMs: 20 };

  function erle(processing: AudioProcessingOptions): { erleDb: number; echoDbfs: number; residualDbfs: number } {
    const run = call({ processing, echo, farMic, ms: 6000 });
    // The echo at the microphone is the near speaker, 6 dB down (RMS does not care for the delay).
    const echoDbfs = rmsDbfs(run.nearSpeaker, ...window(3000, 6000)) + echo.gainDb;
    const residualDbfs = rmsDbfs(run.farSpeaker, ...window(3000, 6000));
    return { erleDb: echoDbfs - residualDbfs, echoDbfs, residualDbfs };
  }

  it('AEC on: ERLE above 15 dB after convergence; AEC off: about 0 dB', () => {
    const on = erle({ aec: { enabled: true, tailMs: 128 }, noiseSuppressionDb: 0, agc: { enabled: false } });
    const off = erle(OFF);
    console.log('ERLE with AEC on', on, 'off', off);
    expect(on.echoDbfs).toBeGreaterThan(-30); // there was an echo to cancel
    expect(on.erleDb).toBeGreaterThan(15);
    expect(Math.abs(off.erleDb)).toBeLessThan(1.5);
  });

  it("the device's output latency is skipped: a 150 ms echo with a 64 ms filter converges when the backend reports 140 ms of it", () => {
    const late = (reportedMs: number) => {
      const run = call({
        processing: { aec: { enabled: true, tailMs: 64 }, noiseSuppressionDb: 0, agc: { enabled: false } },
        echo: { gainDb: -6, delayMs: 150, reportedMs },
        farMic,
        ms: 6000,
      });
      return rmsDbfs(run.nearSpeaker, ...window(3000, 6000)) - 6 - rmsDbfs(run.farSpeaker, ...window(3000, 6000));
    };
    const reported = late(140);
    const unreported = late(0);
    console.log('ERLE of a 150 ms echo, 64 ms tail: latency reported', reported, 'not reported', unreported);
    expect(reported).toBeGreaterThan(15);
    expect(unreported).toBeLessThan(reported - 10);
  });
});

describe('noise suppression and AGC (speexdsp preprocessor)', () => {
  it('noise suppression lowers stationary noise by about what it is set to; 0 dB leaves it', () => {
    const nearMic = whiteNoise({ ms: 4000, sampleRateHz: RATE, rmsDbfs: -40, seed: 9 });
    const level = (db: number) => {
      const run = call({ processing: { ...OFF, noiseSuppressionDb: db }, nearMic, ms: 4000 });
      return rmsDbfs(run.farSpeaker, ...window(2000, 4000));
    };
    const off = level(0);
    const ns = level(-25);
    console.log('stationary noise heard, NS off', off, 'NS −25 dB', ns);
    // White noise at −40 dBFS over 0–8 kHz: PCMU (0–4 kHz) carries half of its power, −43 dBFS.
    expect(off).toBeGreaterThan(-44.5);
    expect(off).toBeLessThan(-41.5);
    expect(ns).toBeLessThan(off - 15);
  });

  it('AGC raises a quiet talker and lowers a loud one to the same level; off, levels stay', () => {
    const level = (talkerDbfs: number, agc: boolean) => {
      const nearMic = speechLikeNoise({ ms: 4000, sampleRateHz: RATE, rmsDbfs: talkerDbfs, seed: 3 });
      const run = call({ processing: { ...OFF, agc: { enabled: agc, levelDbfs: -18 } }, nearMic, ms: 4000 });
      return rmsDbfs(run.farSpeaker, ...window(2000, 4000));
    };
    const quietOff = level(-45, false);
    const loudOff = level(-25, false);
    const quietOn = level(-45, true);
    const loudOn = level(-25, true);
    console.log('talkers heard (dBFS RMS), AGC off: quiet', quietOff, 'loud', loudOff, '; AGC on: quiet', quietOn, 'loud', loudOn);
    expect(Math.abs(quietOff + 45)).toBeLessThan(1.5);
    expect(Math.abs(loudOff + 25)).toBeLessThan(1.5);
    // speexdsp's loudness is spectrally weighted (most around 3.8 kHz), so the level it reaches is not
    // the RMS it is set to; what counts is that both talkers end up there.
    expect(quietOn).toBeGreaterThan(quietOff + 8);
    expect(loudOn).toBeLessThan(loudOff - 5);
    expect(Math.abs(quietOn - loudOn)).toBeLessThan(3);
  });

  it('settings are per path; setAudioPath() switches, and a path the options leave out keeps its defaults', () => {
    const t = ve.open({
      sampleRateHz: RATE,
      audio: { backend: 'null' },
      audioProcessing: { headset: { noiseSuppressionDb: -30 } },
    });
    expect(t.engine.getAudioStats().path).toBe('handset');
    t.engine.setAudioPath('headset');
    expect(t.engine.getAudioStats().path).toBe('headset');
    expect(() => t.engine.setAudioPath('car' as 'headset')).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CONFIG', field: 'path' }));
    expect(() => ve.open({ audio: { backend: 'null' }, audioProcessing: { speaker: { aec: { enabled: true, tailMs: 5 } } } })).toThrow(
      expect.objectContaining({ code: 'ERR_MEDIA_CONFIG', field: 'audioProcessing.speaker.aec.tailMs' }),
    );
    // A real device gets the acoustic defaults (a speakerphone cancels a long echo and levels the talker).
    expect(DEFAULT_AUDIO_PROCESSING.speaker).toMatchObject({ aec: true, aecTailMs: 200, agc: true });
    expect(DEFAULT_AUDIO_PROCESSING.headset.aec).toBe(false);
  });
});
