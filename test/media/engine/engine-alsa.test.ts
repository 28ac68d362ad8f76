// The `alsa` backend through the real alsa-lib without sound hardware: PCMs of alsa-lib's own plugins (file over null, plug) and of the engine's clocked one (offhook_clock), defined per engine in alsaConfig.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlsaAudioBackendOptions, AudioStats, DeviceErrorEvent, DeviceOpenedEvent, DeviceRecoveredEvent, MediaEngineEvent } from '../../../firmware/media/media-engine.js';
import { NativeMediaEngine } from '../../../firmware/media/native-media-engine.js';
import { blockTone, rmsDbfs, samplesOf } from '../support/goertzel.js';
import { VirtualEngines, type TestEngine } from '../support/virtual-engines.js';
import { readWav } from '../support/wav-file.js';

let ve: VirtualEngines;
beforeEach(() => {
  ve = new VirtualEngines();
});
afterEach(() => {
  ve.dispose();
});

type RawFormat = 'S16_LE' | 'S32_LE' | 'S24_3LE';
const BYTES: Record<RawFormat, number> = { S16_LE: 2, S32_LE: 4, S24_3LE: 3 };

/** Raw interleaved PCM of a sine at a peak of `levelDbfs` on every channel (what a microphone would give the driver). */
function writeRawSine(path: string, o: { format: RawFormat; channels: number; rateHz: number; hz: number; ms: number; levelDbfs: number }): void {
  const frames = samplesOf(o.ms, o.rateHz);
  const bytes = BYTES[o.format];
  const buf = Buffer.alloc(frames * o.channels * bytes);
  const peak = 10 ** (o.levelDbfs / 20);
  for (let i = 0; i < frames; i++) {
    const v = peak * Math.sin((2 * Math.PI * o.hz * i) / o.rateHz);
    for (let c = 0; c < o.channels; c++) {
      const at = (i * o.channels + c) * bytes;
      if (o.format === 'S16_LE') buf.writeInt16LE(Math.round(v * 32767), at);
      else if (o.format === 'S32_LE') buf.writeInt32LE(Math.round(v * 2147483647), at);
      else buf.writeIntLE(Math.round(v * 8388607), at, 3);
    }
  }
  writeFileSync(path, buf);
}

/** The first channel of raw interleaved PCM, as 16-bit samples. */
function readRawChannel0(path: string, format: RawFormat, channels: number): Int16Array {
  const buf = readFileSync(path);
  const bytes = BYTES[format];
  const frames = Math.floor(buf.length / (bytes * channels));
  const out = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    const at = i * channels * bytes;
    if (format === 'S16_LE') out[i] = buf.readInt16LE(at);
    else if (format === 'S32_LE') out[i] = buf.readInt32LE(at) >> 16;
    else out[i] = buf.readIntLE(at, 3) >> 8;
  }
  return out;
}

/** No echo canceller or noise suppressor: they would treat a steady test tone as echo or noise. */
const NO_PROCESSING = { handset: { aec: { enabled: false }, noiseSuppressionDb: 0 } } as const;

/** An engine on the ALSA PCMs `mic` and `speaker` of `alsaConfig`, talking PCMU to a file-backend engine whose microphone is a 440 Hz sine. */
function alsaCall(alsa: Omit<AlsaAudioBackendOptions, 'backend' | 'capture' | 'playback'>): { a: TestEngine; b: TestEngine; bWav: string } {
  const a = ve.open({ sampleRateHz: 16000, audio: { backend: 'alsa', capture: 'mic', playback: 'speaker', ...alsa }, audioProcessing: NO_PROCESSING });
  const bWav = ve.path('b.wav');
  const b = ve.open({ sampleRateHz: 16000, audio: { backend: 'file', capture: { toneHz: 440, levelDbfs: -12 }, playbackWavPath: bWav } });
  ve.connect(a, b);
  return { a, b, bWav };
}

describe('alsa backend on alsa-lib plugin PCMs', () => {
  it('a device with S32_LE stereo at 48 kHz: the backend converts format, channels and rate both ways', async () => {
    const micRaw = ve.path('mic.raw');
    const speakerRaw = ve.path('speaker.raw');
    writeRawSine(micRaw, { format: 'S32_LE', channels: 2, rateHz: 48000, hz: 1000, ms: 3000, levelDbfs: -12 });
    // `file` over `null`: the capture reads the raw file (alsa-lib's "virtual mic"), the playback
    // writes one; `null` accepts any setup, so the engine asks for the WM8960 HAT's.
    const alsaConfig = `
      pcm.mic { type file; slave.pcm null; file "${ve.path('mic-copy.raw')}"; infile "${micRaw}"; format raw }
      pcm.speaker { type file; slave.pcm null; file "${speakerRaw}"; format raw }`;
    const { a, b, bWav } = alsaCall({ alsaConfig, format: 'S32_LE', channels: 2, rateHz: 48000 });
    ve.step([a, b], 2000);
    const statsA = a.engine.getAudioStats();
    await ve.close();

    const opened = a.events.filter((e): e is DeviceOpenedEvent => e.type === 'deviceOpened');
    expect(opened).toHaveLength(1);
    const setup = { format: 'S32_LE', channels: 2, rateHz: 48000, periodFrames: 480, bufferFrames: 1440 };
    expect(opened[0]).toMatchObject({ capture: { device: 'mic', ...setup }, playback: { device: 'speaker', ...setup }, linked: false, realtime: false });
    expect(a.events.filter((e) => e.type === 'deviceError')).toEqual([]);
    expect(statsA).toMatchObject({ backend: 'alsa', deviceOk: true, captureXruns: 0, playbackXruns: 0, device: { linked: false } });

    // The microphone's 1000 Hz went S32 stereo 48 kHz → mono 16 kHz → PCMU → B, at its level.
    const heardByB = readWav(bWav);
    const tone = blockTone(heardByB.samples, heardByB.sampleRateHz, 1000, 500, 2000);
    const other = blockTone(heardByB.samples, heardByB.sampleRateHz, 440, 500, 2000);
    console.log('B hears the ALSA microphone', tone, other);
    expect(tone.meanLevelDbfs).toBeGreaterThan(-13);
    expect(tone.meanLevelDbfs).toBeLessThan(-11);
    expect(tone.meanShare).toBeGreaterThan(0.97);
    expect(other.meanLevelDbfs).toBeLessThan(-60);

    // B's 440 Hz landed in the speaker file as S32_LE stereo at 48 kHz (both channels the same).
    const left = readRawChannel0(speakerRaw, 'S32_LE', 2);
    const frames = readFileSync(speakerRaw).length / 8;
    expect(frames).toBeGreaterThan(samplesOf(1990, 48000));
    expect(frames).toBeLessThan(samplesOf(2040, 48000));
    const played = blockTone(left, 48000, 440, 500, 1900);
    console.log('the ALSA speaker plays', played);
    expect(played.meanLevelDbfs).toBeGreaterThan(-13);
    expect(played.meanLevelDbfs).toBeLessThan(-11);
    expect(played.meanShare).toBeGreaterThan(0.97);
    expect(blockTone(left, 48000, 1000, 500, 1900).meanLevelDbfs).toBeLessThan(-60);
    const buf = readFileSync(speakerRaw);
    expect(buf.readInt32LE(8 * 24000)).toBe(buf.readInt32LE(8 * 24000 + 4)); // right = left
  });

  it('plug chains: alsa-lib converts S32_LE / S24_3LE stereo, the backend resamples from 48 kHz and to 44.1 kHz', async () => {
    const micRaw = ve.path('mic.raw');
    const speakerRaw = ve.path('speaker.raw');
    writeRawSine(micRaw, { format: 'S32_LE', channels: 2, rateHz: 48000, hz: 1000, ms: 3000, levelDbfs: -12 });
    const alsaConfig = `
      pcm.micfile { type file; slave.pcm null; file "${ve.path('mic-copy.raw')}"; infile "${micRaw}"; format raw }
      pcm.mic { type plug; slave { pcm micfile; format S32_LE; rate 48000; channels 2 } }
      pcm.speakerfile { type file; slave.pcm null; file "${speakerRaw}"; format raw }
      pcm.speaker { type plug; slave { pcm speakerfile; format S24_3LE; rate 44100; channels 2 } }`;
    const { a, b, bWav } = alsaCall({ alsaConfig });
    ve.step([a, b], 2000);
    await ve.close();
    const opened = a.events.find((e): e is DeviceOpenedEvent => e.type === 'deviceOpened');
    // plug converts format and channels for us, but not the rate (the backend turns alsa-lib's
    // resampling off and does it with speexdsp): the rate is the slave's.
    expect(opened?.capture).toMatchObject({ format: 'S16_LE', channels: 1, rateHz: 48000 });
    expect(opened?.playback).toMatchObject({ format: 'S16_LE', channels: 1, rateHz: 44100 });
    const heardByB = readWav(bWav);
    const tone = blockTone(heardByB.samples, heardByB.sampleRateHz, 1000, 500, 2000);
    expect(tone.meanLevelDbfs).toBeGreaterThan(-13);
    expect(tone.meanShare).toBeGreaterThan(0.97);
    const left = readRawChannel0(speakerRaw, 'S24_3LE', 2);
    const played = blockTone(left, 44100, 440, 500, 1900);
    console.log('plug chain: B hears', tone, 'the speaker plays', played);
    expect(played.meanLevelDbfs).toBeGreaterThan(-13);
    expect(played.meanLevelDbfs).toBeLessThan(-11);
    expect(played.meanShare).toBeGreaterThan(0.97);
  });

  it('real-time clock (pacing: engine, for clockless plugins): the media thread asks for SCHED_FIFO and says what it got', async () => {
    const speakerRaw = ve.path('speaker.raw');
    const alsaConfig = `
      pcm.mic { type null }
      pcm.speaker { type file; slave.pcm null; file "${speakerRaw}"; format raw }`;
    const engine = new NativeMediaEngine({
      addon: ve.addon,
      clock: 'realtime',
      sampleRateHz: 16000,
      audio: { backend: 'alsa', capture: 'mic', playback: 'speaker', format: 'S16_LE', channels: 1, pacing: 'engine', realtimePriority: 10, alsaConfig },
    });
    const opened: DeviceOpenedEvent[] = [];
    engine.on('deviceOpened', (e) => opened.push(e));
    engine.playTone({ spec: { segments: [{ durationMs: 0, frequenciesHz: [1000] }], repeat: true } });
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await engine.drainEvents();
    const elapsed = Date.now() - started;
    engine.close();
    console.log('real-time ALSA', opened[0]);
    expect(opened).toHaveLength(1);
    // Granted (root, CAP_SYS_NICE or an rtprio limit) or refused with the reason; either way it is said.
    const e = opened[0]!;
    expect(e.realtimePriority).toBe(10);
    expect(e.realtime ? e.realtimeError === '' : ['EPERM', 'EINVAL', 'ENOTSUP'].includes(e.realtimeError)).toBe(true);
    // Paced by the engine's clock: as much audio as time went by (the 20 ms of primed silence aside).
    const seconds = readFileSync(speakerRaw).length / 2 / 16000 - 0.02;
    expect(seconds).toBeGreaterThan(elapsed / 1000 - 0.15);
    expect(seconds).toBeLessThan(elapsed / 1000 + 0.15);
  });

  it('xruns for real (offhook_clock: a clocked PCM without hardware): a stalled media thread overruns the microphone and underruns the speaker; both are counted and recovered, and audio goes on', async () => {
    const micRaw = ve.path('mic.raw');
    const speakerRaw = ve.path('speaker.raw');
    writeRawSine(micRaw, { format: 'S16_LE', channels: 1, rateHz: 16000, hz: 1000, ms: 5000, levelDbfs: -12 });
    // alsa-lib's file plugin (microphone from a raw file, speaker to one) over the engine's clocked
    // PCM: the device clock is CLOCK_MONOTONIC, and the media thread blocks on it (pacing: device).
    // 700 ms after the start, the capture read sleeps 150 ms inside alsa-lib (the test knob of
    // offhook_clock): the microphone's 4-period buffer (40 ms) overflows, the speaker's runs dry.
    const alsaConfig = `
      pcm.clock_in { type offhook_clock; stall_after_ms 700; stall_ms 150 }
      pcm.clock_out { type offhook_clock }
      pcm.mic { type file; slave.pcm clock_in; file "${ve.path('mic-copy.raw')}"; infile "${micRaw}"; format raw }
      pcm.speaker { type file; slave.pcm clock_out; file "${speakerRaw}"; format raw }`;
    const a = new NativeMediaEngine({
      addon: ve.addon,
      sampleRateHz: 16000,
      statsIntervalMs: 0,
      // 4 periods (40 ms) and SCHED_FIFO when the system grants it: a busy machine must not make
      // xruns of its own, only the 150 ms stall.
      audio: { backend: 'alsa', capture: 'mic', playback: 'speaker', format: 'S16_LE', channels: 1, rateHz: 16000, periods: 4, realtimePriority: 10, alsaConfig },
      audioProcessing: NO_PROCESSING,
    });
    const bWav = ve.path('b.wav');
    const b = new NativeMediaEngine({ addon: ve.addon, sampleRateHz: 16000, statsIntervalMs: 0, audio: { backend: 'file', capture: { toneHz: 440, levelDbfs: -12 }, playbackWavPath: bWav } });
    const events: MediaEngineEvent[] = [];
    for (const type of ['deviceOpened', 'deviceError', 'deviceRecovered'] as const) a.on(type, (e) => events.push(e));
    let statsA: AudioStats | undefined;
    let sentBefore = 0;
    let sentAfter = 0;
    try {
      const sa = a.createStream({ local: { address: '127.0.0.1' }, codec: { name: 'PCMU' } });
      const sb = b.createStream({ local: { address: '127.0.0.1' }, codec: { name: 'PCMU' } });
      sa.update({ remote: { address: '127.0.0.1', port: sb.localRtpPort } });
      sb.update({ remote: { address: '127.0.0.1', port: sa.localRtpPort } });
      sa.start();
      sb.start();
      await sleep(500);
      sentBefore = sa.getStats().packetsSent;
      await sleep(1500);
      statsA = a.getAudioStats();
      sentAfter = sa.getStats().packetsSent;
      await a.drainEvents();
    } finally {
      a.close();
      b.close();
    }
    console.log('xruns on offhook_clock', statsA, { sentBefore, sentAfter });
    expect(events.map((e) => e.type)).toEqual(['deviceOpened']);
    expect(events[0]).toMatchObject({ capture: { device: 'mic', periodFrames: 160, bufferFrames: 640 }, playback: { device: 'speaker', periodFrames: 160, bufferFrames: 640 } });
    // Both directions ran out (EPIPE), were counted and recovered (snd_pcm_recover), never a device error.
    expect(statsA).toMatchObject({ deviceOk: true, deviceErrors: 0, deviceRecoveries: 0 });
    expect(statsA.captureXruns).toBeGreaterThanOrEqual(1);
    expect(statsA.playbackXruns).toBeGreaterThanOrEqual(1);
    // A's packets went on after the stall: 1.5 s from 500 ms on is 75 packets, less the 150 ms lost
    // (and whatever a loaded machine costs on top).
    expect(sentAfter - sentBefore).toBeGreaterThan(40);
    // Audio goes on both ways after the xruns: B hears A's microphone, A's speaker plays B.
    const heardByB = readWav(bWav);
    const tone = blockTone(heardByB.samples, heardByB.sampleRateHz, 1000, 1200, 1900);
    const played = readRawChannel0(speakerRaw, 'S16_LE', 1);
    const speaker = blockTone(played, 16000, 440, played.length / 16 - 700, played.length / 16 - 100);
    console.log('after the xruns: B hears', tone, 'A plays', speaker);
    expect(tone.meanLevelDbfs).toBeGreaterThan(-16);
    expect(tone.goodFraction).toBeGreaterThanOrEqual(0.7);
    expect(speaker.meanLevelDbfs).toBeGreaterThan(-16);
    expect(speaker.goodFraction).toBeGreaterThanOrEqual(0.7);
  });

  it('a device that does not exist: a deviceError event (ENOENT), and the engine keeps running on silence', async () => {
    const { a, b, bWav } = alsaCall({ alsaConfig: '', reopenIntervalMs: 100 });
    ve.step([a, b], 1000);
    const stats = a.engine.getAudioStats();
    const streamStatsB = b.engine.getAudioStats();
    await ve.close();
    const errors = a.events.filter((e): e is DeviceErrorEvent => e.type === 'deviceError');
    // One per direction, once (not once per reopening attempt).
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ device: 'mic', errno: -2, systemCode: 'ENOENT', message: expect.stringMatching(/^alsa capture: snd_pcm_open/) });
    expect(errors[1]).toMatchObject({ device: 'mic', systemCode: 'ENOENT', message: expect.stringMatching(/^alsa playback/) });
    expect(a.events.some((e) => e.type === 'deviceOpened' || e.type === 'deviceRecovered')).toBe(false);
    expect(stats).toMatchObject({ deviceOk: false, deviceErrors: 1, deviceRecoveries: 0, device: null });
    expect(streamStatsB.deviceOk).toBe(true);
    // The call goes on: A sends (silence) all along.
    const heardByB = readWav(bWav);
    expect(heardByB.samples.length).toBe(samplesOf(1000, 16000));
    expect(rmsDbfs(heardByB.samples, samplesOf(200, 16000))).toBe(-Infinity);
  });

  it('alsaConfig that does not parse: ERR_MEDIA_DEVICE when the engine is created, naming the option', () => {
    expect(() => ve.open({ audio: { backend: 'alsa', capture: 'mic', playback: 'speaker', alsaConfig: 'pcm.mic { type file' } })).toThrow(
      expect.objectContaining({ code: 'ERR_MEDIA_DEVICE', message: expect.stringMatching(/alsaConfig/) }),
    );
  });

  it('a device that comes back (the microphone file appears): reopened: deviceOpened, deviceRecovered, and audio flows', async () => {
    const micRaw = ve.path('late-mic.raw');
    const alsaConfig = `
      pcm.mic { type file; slave.pcm null; file "${ve.path('mic-copy.raw')}"; infile "${micRaw}"; format raw }
      pcm.speaker { type file; slave.pcm null; file "${ve.path('speaker.raw')}"; format raw }`;
    const { a, b, bWav } = alsaCall({ alsaConfig, format: 'S16_LE', channels: 1, rateHz: 16000, reopenIntervalMs: 200 });
    ve.step([a, b], 500);
    expect(existsSync(micRaw)).toBe(false);
    writeRawSine(micRaw, { format: 'S16_LE', channels: 1, rateHz: 16000, hz: 1000, ms: 3000, levelDbfs: -12 });
    ve.step([a, b], 1500);
    const stats = a.engine.getAudioStats();
    await ve.close();
    const kinds = a.events.map((e) => e.type);
    expect(kinds).toEqual(['deviceError', 'deviceError', 'deviceOpened', 'deviceRecovered']);
    const recovered = a.events[3] as DeviceRecoveredEvent;
    // Down from the first tick until a reopening attempt (every 200 ms) found the file.
    expect(recovered.device).toBe('mic');
    expect(recovered.downMs).toBeGreaterThanOrEqual(500);
    expect(recovered.downMs).toBeLessThanOrEqual(700);
    expect(recovered.timeMs).toBe(recovered.downMs);
    expect(stats).toMatchObject({ deviceOk: true, deviceErrors: 1, deviceRecoveries: 1 });
    const heardByB = readWav(bWav);
    expect(rmsDbfs(heardByB.samples, 0, samplesOf(450, 16000))).toBe(-Infinity);
    expect(blockTone(heardByB.samples, 16000, 1000, 1000, 2000).meanLevelDbfs).toBeGreaterThan(-13);
  });
});
