// The mock engine implements MediaEngine (checked by the compiler here) and behaves like the native one where the phone can tell.
import { describe, expect, it } from 'vitest';
import type { MediaEngine, MediaEngineEvent, RtpStream } from '../../../firmware/media/media-engine.js';
import { MediaEngineError } from '../../../firmware/media/media-engine.js';
import { MockMediaEngine } from '../../../firmware/media/mock-media-engine.js';
import { NativeMediaEngine } from '../../../firmware/media/native-media-engine.js';
import { TONE_TABLES } from '../../../firmware/media/tones.js';

// Both implementations are assignable to the interface: the compiler checks it (npx tsc --noEmit).
const implementations: readonly (new (...args: never[]) => MediaEngine)[] = [MockMediaEngine, NativeMediaEngine];

/** Code above the engine is written against the interface only; this stands for it. */
function placeCall(engine: MediaEngine): RtpStream {
  const stream = engine.createStream({
    local: { address: '0.0.0.0' },
    remote: { address: '192.0.2.10', port: 30000 },
    codec: { name: 'opus', payloadType: 111 },
    telephoneEvent: { payloadType: 101 },
    rtpTimeoutMs: 30000,
  });
  engine.playTone({ tone: 'ringback', country: 'DE' });
  stream.start();
  return stream;
}

describe('MockMediaEngine', () => {
  it('is a MediaEngine', () => {
    expect(implementations).toHaveLength(2);
    const engine: MediaEngine = new MockMediaEngine();
    expect(engine.clock).toBe('virtual');
  });

  it('records what the code above it asked for, in order', () => {
    const engine = new MockMediaEngine();
    const stream = placeCall(engine);
    engine.stopTone();
    stream.sendDtmf('12#', { durationMs: 80 });
    stream.update({ direction: 'sendonly' });
    engine.advance(500);
    stream.close();
    expect(engine.calls.map((c) => c.method)).toEqual(['createStream', 'playTone', 'start', 'stopTone', 'sendDtmf', 'update', 'advance', 'close']);
    expect(engine.calls[1]).toMatchObject({ method: 'playTone', spec: TONE_TABLES.DE.ringback });
    expect(engine.streams[0]?.dtmfSent).toEqual([{ digits: '12#', options: { durationMs: 80 } }]);
    expect(engine.streams[0]?.options.direction).toBe('sendonly');
    expect(stream.localRtpPort % 2).toBe(0);
    expect(stream.localRtcpPort).toBe(stream.localRtpPort + 1);
    expect(engine.nowMs()).toBe(500);
  });

  it('delivers events that tests emit to the listeners of that type only', () => {
    const engine = new MockMediaEngine();
    const seen: MediaEngineEvent[] = [];
    const off = engine.on('dtmf', (e) => seen.push(e));
    engine.on('rtpTimeout', (e) => seen.push(e));
    engine.emit({ type: 'dtmf', streamId: 1, timeMs: 0, digit: '5', phase: 'begin', durationMs: 0 });
    engine.emit({ type: 'toneEnded', timeMs: 3 });
    engine.emit({ type: 'rtpTimeout', streamId: 1, timeMs: 9, silentMs: 30000 });
    off();
    engine.emit({ type: 'dtmf', streamId: 1, timeMs: 1, digit: '6', phase: 'begin', durationMs: 0 });
    expect(seen.map((e) => e.type)).toEqual(['dtmf', 'rtpTimeout']);
  });

  it('fails like the native engine: same option checks, same typed errors', () => {
    const engine = new MockMediaEngine({ busyPort: 5004 });
    expect(() => engine.createStream({ local: { address: '0.0.0.0', port: 5004 }, codec: { name: 'PCMU' } })).toThrow(
      expect.objectContaining({ code: 'ERR_MEDIA_SOCKET', systemCode: 'EADDRINUSE' }),
    );
    expect(() => engine.createStream({ local: { address: '0.0.0.0' }, codec: { name: 'PCMU' }, ptimeMs: 25 })).toThrow(MediaEngineError);
    const s = engine.createStream({ local: { address: '0.0.0.0' }, codec: { name: 'PCMA' } });
    expect(() => s.sendDtmf('1')).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_STATE' }));
    s.setStats({ packetsLost: 7, rttMs: 42 });
    expect(s.getStats()).toMatchObject({ packetsLost: 7, rttMs: 42, streamId: s.id });
    engine.close();
    expect(() => s.getStats()).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CLOSED' }));
    expect(() => engine.playTone({ dtmf: '1' })).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CLOSED' }));
  });

  it('rings, switches the audio path and reports device events and audio statistics as the native engine does', () => {
    const engine = new MockMediaEngine();
    engine.ring({ country: 'US' });
    expect(engine.ringing).toMatchObject({ kind: 'tone', spec: { repeat: true } });
    expect(engine.ringing?.kind === 'tone' ? engine.ringing.spec.segments.map((seg) => seg.durationMs) : []).toEqual([2000, 4000]);
    engine.ring({ wav: '/usr/share/offhook/ring.wav', loop: false });
    expect(engine.ringing).toEqual({ kind: 'wav', path: '/usr/share/offhook/ring.wav', loop: false, gainDb: 0 });
    expect(() => engine.ring({ country: 'US', cadenceMs: [0] })).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CONFIG', field: 'cadenceMs' }));
    engine.stopRing();
    expect(engine.ringing).toBeNull();
    engine.setAudioPath('speaker');
    expect(() => engine.setAudioPath('car' as 'speaker')).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CONFIG', field: 'path' }));
    engine.setAudioStats({ backend: 'alsa', deviceOk: false, deviceErrors: 1 });
    expect(engine.getAudioStats()).toMatchObject({ backend: 'alsa', path: 'speaker', deviceOk: false, deviceErrors: 1, conference: [] });
    const seen: MediaEngineEvent[] = [];
    engine.on('deviceRecovered', (e) => seen.push(e));
    engine.on('deviceOpened', (e) => seen.push(e));
    const setup = { device: 'plughw:CARD=Device,DEV=0', format: 'S16_LE', channels: 1, rateHz: 48000, periodFrames: 480, bufferFrames: 1440 };
    engine.emit({ type: 'deviceOpened', timeMs: 5, capture: setup, playback: setup, linked: true, realtime: false, realtimePriority: 40, realtimeError: 'EPERM' });
    engine.emit({ type: 'deviceRecovered', timeMs: 5, device: setup.device, downMs: 2000 });
    expect(seen.map((e) => e.type)).toEqual(['deviceOpened', 'deviceRecovered']);
    expect(engine.calls.map((c) => c.method)).toEqual(['ring', 'ring', 'stopRing', 'setAudioPath']);
  });

  it('takes pushCapture() only with the external backend, delivers playback events that tests emit, and converts rates', () => {
    const plain = new MockMediaEngine();
    expect(() => plain.pushCapture(new Int16Array(160))).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_STATE' }));
    expect(plain.getAudioStats().external).toBeNull();
    const engine = new MockMediaEngine({ backend: 'external' });
    engine.pushCapture(Int16Array.of(1, 2, 3));
    expect(engine.captured).toEqual([Int16Array.of(1, 2, 3)]);
    expect(engine.getAudioStats()).toMatchObject({ backend: 'external', external: { capturePushedFrames: 3 } });
    expect(engine.calls).toEqual([{ method: 'pushCapture', frames: 3 }]);
    const played: Int16Array[] = [];
    engine.on('playback', (e) => played.push(e.pcm));
    engine.emit({ type: 'playback', timeMs: 20, sampleRateHz: 16000, pcm: new Int16Array(320) });
    expect(played).toHaveLength(1);
    // Linear interpolation, continuous across pieces: 16 kHz to 48 kHz triples the samples.
    const up = engine.createResampler(16000, 48000);
    const a = up.process(Int16Array.of(0, 300, 600, 900));
    const b = up.process(Int16Array.of(1200, 1500));
    expect([...a, ...b]).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1200, 1300, 1400, 1500]);
    expect(() => engine.createResampler(16000, 99)).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CONFIG', field: 'outRateHz' }));
  });
});
