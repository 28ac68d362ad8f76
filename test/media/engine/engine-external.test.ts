// The `external` audio backend through the TS engine API: a microphone pushed from JS reaches a second engine, the speaker comes back as 'playback' events; pre-roll, underrun, overflow, trim and dropped batches are counted; createResampler.
import { afterEach, describe, expect, it } from 'vitest';
import type { ExternalAudioStats, PlaybackEvent } from '../../../firmware/media/media-engine.js';
import { MediaEngineError } from '../../../firmware/media/media-engine.js';
import { NativeMediaEngine } from '../../../firmware/media/native-media-engine.js';
import { blockTone, rmsDbfs, samplesOf, toneLevelDbfs } from '../support/goertzel.js';
import { VirtualEngines, type TestEngine } from '../support/virtual-engines.js';
import { readWav, sine } from '../support/wav-file.js';

const RATE = 16000;
/** One 10 ms engine period at RATE. */
const PERIOD = RATE / 100;

let engines: VirtualEngines | undefined;

afterEach(() => {
  engines?.dispose();
  engines = undefined;
});

/** An external-backend engine with its 'playback' events collected. */
function externalEngine(e: VirtualEngines, audio: Partial<Record<'capturePrerollMs' | 'captureBufferMs' | 'playbackBatchMs' | 'playbackMaxPendingMs', number>> = {}) {
  const t = e.open({ sampleRateHz: RATE, audio: { backend: 'external', ...audio } });
  const played: PlaybackEvent[] = [];
  t.engine.on('playback', (p) => played.push(p));
  return { ...t, played };
}

function externalStats(t: TestEngine): ExternalAudioStats {
  const s = t.engine.getAudioStats();
  expect(s.backend).toBe('external');
  if (s.external === null) throw new Error('no external stats');
  return s.external;
}

/** The samples of every playback batch, in order. */
function concat(played: readonly PlaybackEvent[]): Int16Array {
  const out = new Int16Array(played.reduce((n, p) => n + p.pcm.length, 0));
  let at = 0;
  for (const p of played) {
    out.set(p.pcm, at);
    at += p.pcm.length;
  }
  return out;
}

describe('the external backend in a call', () => {
  it('a 1 kHz microphone pushed from JS reaches the far engine; the far 440 Hz comes back in playback batches', async () => {
    engines = new VirtualEngines();
    const a = externalEngine(engines);
    const wavPath = engines.path('b-speaker.wav');
    const b = engines.open({ sampleRateHz: RATE, audio: { backend: 'file', capture: { toneHz: 440 }, playbackWavPath: wavPath } });
    engines.connect(a, b, { name: 'PCMU' });
    const mic = sine(1000, 3000, RATE);
    // The way a WebSocket delivers it: 20 ms pieces, two periods apart, a little ahead of the ticks.
    let pushed = 0;
    const push = (frames: number): void => {
      a.engine.pushCapture(mic.subarray(pushed, pushed + frames));
      pushed += frames;
    };
    push(2 * PERIOD * 3); // 60 ms: more than the 40 ms pre-roll
    for (let t = 0; t < 2800; t += 20) {
      push(2 * PERIOD);
      engines.step([a, b], 20);
      // The event loop runs between steps, as it would between WebSocket messages.
      await a.engine.drainEvents();
    }
    const stats = externalStats(a);
    await engines.close();

    // B heard the pushed tone, from soon after the start to the end.
    const heard = readWav(wavPath);
    const tone = blockTone(heard.samples, RATE, 1000, 200, 2800);
    expect(tone.blocks).toBeGreaterThanOrEqual(25);
    expect(tone.goodFraction, JSON.stringify(tone)).toBe(1);
    expect(tone.meanLevelDbfs).toBeGreaterThan(-14);
    expect(stats.captureUnderruns).toBe(0);
    expect(stats.captureOverflows).toBe(0);
    expect(stats.capturePushedFrames).toBe(pushed);
    expect(stats.captureQueuedFrames).toBeLessThanOrEqual(samplesOf(60, RATE));

    // A's speaker: 20 ms batches of what it played, in order, at the engine rate, with B's 440 Hz.
    expect(a.played.length).toBe(140);
    expect(a.played.every((p) => p.pcm.length === 2 * PERIOD && p.sampleRateHz === RATE)).toBe(true);
    expect(a.played.map((p) => p.timeMs)).toEqual([...a.played.map((p) => p.timeMs)].sort((x, y) => x - y));
    const speaker = concat(a.played);
    const back = blockTone(speaker, RATE, 440, 200, 2800);
    expect(back.goodFraction, JSON.stringify(back)).toBe(1);
    expect(back.meanLevelDbfs).toBeGreaterThan(-14);
    expect(stats.playbackDeliveredFrames).toBe(speaker.length);
    expect(stats.playbackDrops).toBe(0);
  });
});

describe('the external backend on the real-time clock', () => {
  it('a microphone pushed from a timer (its own clock) plays at the far end; the speaker arrives every 20 ms', async () => {
    engines = new VirtualEngines();
    const wavPath = engines.path('b-speaker.wav');
    const a = new NativeMediaEngine({ addon: engines.addon, sampleRateHz: RATE, statsIntervalMs: 0, audio: { backend: 'external' } });
    const b = new NativeMediaEngine({ addon: engines.addon, sampleRateHz: RATE, statsIntervalMs: 0, audio: { backend: 'file', capture: { toneHz: 440 }, playbackWavPath: wavPath } });
    const played: PlaybackEvent[] = [];
    a.on('playback', (p) => played.push(p));
    try {
      const sa = a.createStream({ local: { address: '127.0.0.1' }, rtcpMux: true, codec: { name: 'PCMU' } });
      const sb = b.createStream({ local: { address: '127.0.0.1' }, remote: { address: '127.0.0.1', port: sa.localRtpPort }, rtcpMux: true, codec: { name: 'PCMU' } });
      sa.update({ remote: { address: '127.0.0.1', port: sb.localRtpPort } });
      sa.start();
      sb.start();
      const mic = sine(1000, 3000, RATE);
      const started = performance.now();
      let pushed = 0;
      // A sender with a clock of its own, as a browser's audio thread: what is due by now, every ~20 ms.
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          const due = Math.min(mic.length, Math.round(((performance.now() - started + 40) * RATE) / 1000));
          if (due > pushed) a.pushCapture(mic.subarray(pushed, due));
          pushed = due;
          if (performance.now() - started >= 1500) {
            clearInterval(timer);
            resolve();
          }
        }, 20);
      });
      await a.drainEvents();
      const stats = a.getAudioStats().external;
      sa.close();
      sb.close();
      a.close();
      b.close();
      const heard = readWav(wavPath);
      const tone = blockTone(heard.samples, RATE, 1000, 500, 1400);
      expect(tone.goodFraction, JSON.stringify({ tone, stats })).toBeGreaterThan(0.85);
      // About 75 batches of 20 ms in 1.5 s; B's 440 Hz among them.
      expect(played.length).toBeGreaterThan(60);
      expect(played.length).toBeLessThan(80);
      expect(blockTone(concat(played), RATE, 440, 500, 1400).goodFraction).toBeGreaterThan(0.85);
      expect(stats?.playbackDrops).toBe(0);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('the capture buffer', () => {
  it('waits for the pre-roll, plays it out, counts a dropout once and waits for the pre-roll again', () => {
    engines = new VirtualEngines();
    const a = externalEngine(engines, { capturePrerollMs: 40 });
    a.engine.pushCapture(sine(1000, 30, RATE));
    engines.step([a], 100);
    // 30 ms is below the pre-roll: nothing is taken yet, and waiting is no underrun.
    expect(externalStats(a)).toMatchObject({ captureQueuedFrames: samplesOf(30, RATE), captureUnderruns: 0 });
    a.engine.pushCapture(sine(1000, 20, RATE));
    engines.step([a], 10);
    expect(externalStats(a).captureQueuedFrames).toBe(samplesOf(40, RATE));
    engines.step([a], 40);
    expect(externalStats(a)).toMatchObject({ captureQueuedFrames: 0, captureUnderruns: 0 });
    engines.step([a], 50);
    // Ran dry: one underrun, however long the silence lasts.
    expect(externalStats(a).captureUnderruns).toBe(1);
    a.engine.pushCapture(sine(1000, 30, RATE));
    engines.step([a], 50);
    expect(externalStats(a)).toMatchObject({ captureQueuedFrames: samplesOf(30, RATE), captureUnderruns: 1 });
    expect(a.engine.getAudioStats().captureXruns).toBe(1);
  });

  it('drops the oldest samples past captureBufferMs, and a push larger than the whole buffer keeps its newest part', () => {
    engines = new VirtualEngines();
    const a = externalEngine(engines, { capturePrerollMs: 20, captureBufferMs: 100 });
    a.engine.pushCapture(sine(1000, 80, RATE));
    a.engine.pushCapture(sine(1000, 50, RATE));
    expect(externalStats(a)).toMatchObject({ captureQueuedFrames: samplesOf(100, RATE), captureOverflows: 1, captureOverflowFrames: samplesOf(30, RATE) });
    a.engine.pushCapture(sine(1000, 250, RATE));
    expect(externalStats(a)).toMatchObject({ captureQueuedFrames: samplesOf(100, RATE), captureOverflows: 2, captureOverflowFrames: samplesOf(30 + 250, RATE) });
    expect(externalStats(a).capturePushedFrames).toBe(samplesOf(380, RATE));
    engines.step([a], 30);
    expect(externalStats(a).captureQueuedFrames).toBe(samplesOf(70, RATE));
  });

  it('a surplus that never drains (a faster sender) is dropped after 3 s, down to the pre-roll', () => {
    engines = new VirtualEngines();
    const a = externalEngine(engines, { capturePrerollMs: 40, captureBufferMs: 500 });
    a.engine.pushCapture(new Int16Array(samplesOf(200, RATE)));
    for (let t = 0; t < 3100; t += 10) {
      a.engine.pushCapture(new Int16Array(PERIOD));
      engines.step([a], 10);
    }
    const s = externalStats(a);
    expect(s.captureTrimmedFrames).toBe(samplesOf(200 - 40, RATE));
    expect(s.captureQueuedFrames).toBe(samplesOf(40, RATE));
    expect(s.captureUnderruns).toBe(0);
  });
});

describe('playback batches', () => {
  it('are dropped, and counted, while more than playbackMaxPendingMs of them wait for the event loop', async () => {
    engines = new VirtualEngines();
    const a = externalEngine(engines, { playbackBatchMs: 20, playbackMaxPendingMs: 100 });
    a.engine.playTone({ spec: { repeat: true, segments: [{ frequenciesHz: [440], durationMs: 0 }] } });
    // The event loop does not run during these 1000 ms: 5 batches wait, the other 45 are dropped.
    engines.step([a], 1000);
    await a.engine.drainEvents();
    expect(a.played.length).toBe(5);
    expect(externalStats(a)).toMatchObject({ playbackDrops: 45, playbackDroppedFrames: 45 * 2 * PERIOD, playbackDeliveredFrames: 5 * 2 * PERIOD });
    // Once the loop runs again, nothing more is lost.
    for (let t = 0; t < 200; t += 20) {
      engines.step([a], 20);
      await a.engine.drainEvents();
    }
    expect(a.played.length).toBe(15);
    expect(externalStats(a).playbackDrops).toBe(45);
    expect(a.engine.getAudioStats().playbackXruns).toBe(45); // the engine's xrun counter, read each tick
    // What was delivered is the tone the engine played (the tone generator runs on the speaker).
    const last = a.played.at(-1)!.pcm;
    expect(toneLevelDbfs(last, RATE, 440)).toBeGreaterThan(-30);
  });

  it('batches of 10 ms and 40 ms', async () => {
    engines = new VirtualEngines();
    const ten = externalEngine(engines, { playbackBatchMs: 10 });
    const forty = externalEngine(engines, { playbackBatchMs: 40 });
    for (let t = 0; t < 120; t += 10) {
      engines.step([ten, forty], 10);
      await engines.drain();
    }
    expect(ten.played.map((p) => p.pcm.length)).toEqual(Array<number>(12).fill(PERIOD));
    expect(forty.played.map((p) => p.pcm.length)).toEqual([4 * PERIOD, 4 * PERIOD, 4 * PERIOD]);
    expect(rmsDbfs(concat(ten.played))).toBe(-Infinity); // nothing plays: silence
  });
});

describe('errors', () => {
  it('pushCapture() needs the external backend; bad options are refused', () => {
    engines = new VirtualEngines();
    const f = engines.open({ sampleRateHz: RATE, audio: { backend: 'null' } });
    expect(() => f.engine.pushCapture(new Int16Array(160))).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_STATE', message: expect.stringContaining("'external'") as string }));
    expect(() => f.engine.pushCapture([1, 2] as unknown as Int16Array)).toThrow(MediaEngineError);
    expect(f.engine.getAudioStats().external).toBeNull();
    expect(() => engines!.open({ audio: { backend: 'external', capturePrerollMs: 2000 } })).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CONFIG', field: 'audio.capturePrerollMs' }));
    expect(() => engines!.open({ audio: { backend: 'external', capturePrerollMs: 100, captureBufferMs: 110 } })).toThrow(expect.objectContaining({ field: 'audio.captureBufferMs' }));
    expect(() => engines!.open({ audio: { backend: 'external', playbackBatchMs: 5 } })).toThrow(expect.objectContaining({ field: 'audio.playbackBatchMs' }));
  });
});

describe('createResampler', () => {
  it('converts 48 kHz to 16 kHz and back in pieces, keeping a 1 kHz tone clean', () => {
    engines = new VirtualEngines();
    const { engine } = engines.open({ sampleRateHz: RATE, audio: { backend: 'null' } });
    const down = engine.createResampler(48000, 16000);
    const up = engine.createResampler(16000, 48000);
    expect([down.inRateHz, down.outRateHz]).toEqual([48000, 16000]);
    const input = sine(1000, 1000, 48000);
    const pieces: Int16Array[] = [];
    for (let i = 0; i < input.length; i += 960) pieces.push(up.process(down.process(input.subarray(i, i + 960))));
    const out = concat(pieces.map((pcm) => ({ type: 'playback', timeMs: 0, sampleRateHz: 48000, pcm })));
    // The filters' delay (a few ms) is all that is missing.
    expect(out.length).toBeGreaterThan(48000 - samplesOf(10, 48000));
    expect(out.length).toBeLessThanOrEqual(48000);
    const tone = blockTone(out, 48000, 1000, 100, 900);
    expect(tone.goodFraction, JSON.stringify(tone)).toBe(1);
    expect(tone.meanLevelDbfs).toBeCloseTo(-12, 0);
    expect(() => engine.createResampler(0, 16000)).toThrow(expect.objectContaining({ field: 'inRateHz' }));
  });
});
