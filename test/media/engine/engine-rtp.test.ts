// The engine's RTP on the wire, checked byte by byte against a hand-driven peer: headers, RFC 4733 packets, parsing, CN, latching.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MediaEngineEvent, RtpStream, RtpStreamOptions } from '../../../firmware/media/media-engine.js';
import { loadNativeAddon } from '../../../firmware/media/native-addon.js';
import { NativeMediaEngine } from '../../../firmware/media/native-media-engine.js';
import { blockTone, rmsDbfs, samplesOf } from '../support/goertzel.js';
import { buildRtp, RtpPeer } from '../support/rtp-peer.js';
import { readWav, sine, writeWav } from '../support/wav-file.js';

const path = process.env.OFFHOOK_TEST_ADDON;
const addon = loadNativeAddon(path !== undefined ? { path } : {});

let dir: string;
let peer: RtpPeer;
let engine: NativeMediaEngine;
let events: MediaEngineEvent[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offhook-rtp-'));
  peer = await RtpPeer.open();
  events = [];
});

afterEach(async () => {
  engine.close();
  await peer.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(options: { toneHz?: number; seed?: number } = {}): void {
  engine = new NativeMediaEngine({
    addon,
    clock: 'virtual',
    sampleRateHz: 8000,
    randomSeed: options.seed ?? 1,
    audio: {
      backend: 'file',
      ...(options.toneHz !== undefined ? { capture: { toneHz: options.toneHz } } : {}),
      playbackWavPath: join(dir, 'speaker.wav'),
    },
  });
  for (const type of ['dtmf', 'remoteLatched', 'ssrcChanged', 'rtcpBye'] as const) engine.on(type, (e) => events.push(e));
}

function stream(options: Partial<RtpStreamOptions> = {}): RtpStream {
  const s = engine.createStream({
    local: { address: '127.0.0.1' },
    remote: { address: '127.0.0.1', port: peer.port },
    rtcpMux: true,
    codec: { name: 'PCMU' },
    ...options,
  });
  s.start();
  return s;
}

/** Advances the engine `ms` in 10 ms ticks, waiting each time for what it sent to reach the peer (minus `elsewhere`). */
async function run(s: RtpStream, ms: number, elsewhere = 0): Promise<void> {
  for (let t = 0; t < ms; t += 10) {
    engine.advance(10);
    const st = s.getStats();
    await peer.settle(st.packetsSent + st.rtcpSent - elsewhere);
  }
  await engine.drainEvents();
}

describe('what the engine sends (RFC 3550 §5.1, RFC 3551 §4.1)', () => {
  it('SSRC, sequence numbers and timestamps: random start, +1 and +160 per 20 ms packet, marker on the first only', async () => {
    open({ toneHz: 1000, seed: 42 });
    const s = stream();
    await run(s, 1000);
    const packets = peer.rtp;
    expect(packets.length).toBeGreaterThanOrEqual(48);
    const first = packets[0]!;
    expect(first.header.version).toBe(2);
    expect(first.header.payloadType).toBe(0);
    expect(first.header.ssrc).toBe(s.localSsrc);
    expect(first.header.marker).toBe(true);
    expect(first.payload.length).toBe(160);
    packets.slice(1).forEach((p, i) => {
      const prev = packets[i]!;
      expect(p.header.marker).toBe(false);
      expect(p.header.seq).toBe((prev.header.seq + 1) & 0xffff);
      expect(p.header.timestamp).toBe((prev.header.timestamp + 160) >>> 0);
    });
    // Symmetric RTP: sent from the socket it listens on.
    expect(first.from.port).toBe(s.localRtpPort);
    // Random initial values: another seed, other values (RFC 3550 §5.1).
    const other = new NativeMediaEngine({ addon, clock: 'virtual', randomSeed: 43, audio: { backend: 'null' } });
    const o = other.createStream({ local: { address: '127.0.0.1' }, rtcpMux: true, codec: { name: 'PCMU' } });
    expect(o.localSsrc).not.toBe(s.localSsrc);
    other.close();
  });

  it('telephone-event: start with M, updates with the same timestamp and growing duration, the end three times (RFC 4733 §2.5)', async () => {
    open({ toneHz: 1000 });
    const s = stream({ telephoneEvent: { payloadType: 101 } });
    await run(s, 200);
    s.sendDtmf('7', { durationMs: 100, volumeDbm0: -12 });
    await run(s, 400);
    const all = peer.rtp;
    const events = all.filter((p) => p.header.payloadType === 101);
    expect(events.length).toBe(5 + 2); // 5 intervals of 20 ms, the last carrying E, plus 2 repeats of it
    const ts = events[0]!.header.timestamp;
    expect(events.every((p) => p.header.timestamp === ts)).toBe(true);
    expect(events.map((p) => p.header.marker)).toEqual([true, false, false, false, false, false, false]);
    expect(events.map((p) => p.payload[0])).toEqual(Array(7).fill(7));
    expect(events.map((p) => (p.payload[1]! & 0x80) !== 0)).toEqual([false, false, false, false, true, true, true]);
    expect(events.map((p) => p.payload[1]! & 0x3f)).toEqual(Array(7).fill(12));
    expect(events.map((p) => p.payload.readUInt16BE(2))).toEqual([160, 320, 480, 640, 800, 800, 800]);
    // Sequence numbers run on through events and audio alike; no audio while the event plays.
    const firstEvent = all.indexOf(events[0]!);
    const lastEvent = all.indexOf(events[6]!);
    all.slice(1).forEach((p, i) => expect(p.header.seq).toBe((all[i]!.header.seq + 1) & 0xffff));
    expect(all.slice(firstEvent, lastEvent + 1).every((p) => p.header.payloadType === 101)).toBe(true);
    // The event started at the timestamp the audio packet of that interval would have had.
    expect(ts).toBe((all[firstEvent - 1]!.header.timestamp + 160) >>> 0);
    expect(all[lastEvent + 1]!.header.timestamp).toBe((ts + 7 * 160) >>> 0);
  });
});

describe('Opus DTX (RFC 7587 §3.1.3)', () => {
  it('sends next to nothing in silence, and marks the first packet of the next talkspurt', async () => {
    // 1 s of speech-like tone, 2 s of silence, 1 s of tone, as the microphone.
    const rate = 16000;
    const samples = Int16Array.from({ length: rate * 4 }, (_, i) => {
      const t = i / rate;
      const talking = t < 1 || t >= 3;
      return talking ? Math.round(8000 * (0.55 + 0.45 * Math.sin(2 * Math.PI * 3 * t)) * Math.sin(2 * Math.PI * 700 * t)) : 0;
    });
    const wavPath = join(dir, 'talk.wav');
    writeWav(wavPath, { sampleRateHz: rate, samples });
    engine = new NativeMediaEngine({ addon, clock: 'virtual', sampleRateHz: rate, randomSeed: 4, audio: { backend: 'file', capture: { wavPath } } });
    const s = stream({ codec: { name: 'opus', payloadType: 111, dtx: true } });
    await run(s, 4000);
    const at = (p: { header: { timestamp: number } }) => ((p.header.timestamp - peer.rtp[0]!.header.timestamp) >>> 0) / 48; // ms of media
    const silent = peer.rtp.filter((p) => at(p) >= 1300 && at(p) < 2900);
    const talking = peer.rtp.filter((p) => at(p) >= 3100 && at(p) < 3900);
    console.log('DTX: packets in 1.6 s of silence', silent.length, 'in 0.8 s of talk', talking.length);
    expect(talking.length).toBe(40); // every 20 ms
    expect(silent.length).toBeLessThan(10); // libopus keeps one frame every 400 ms or so
    const resumed = peer.rtp.find((p) => at(p) >= 2990);
    expect(resumed?.header.marker).toBe(true); // RFC 3551 §4.1: a talkspurt starts
    // Timestamps kept counting through the silence: the gap shows in them, not in sequence numbers.
    const i = peer.rtp.indexOf(resumed!);
    expect(resumed!.header.seq).toBe((peer.rtp[i - 1]!.header.seq + 1) & 0xffff);
    expect(at(resumed!) - at(peer.rtp[i - 1]!)).toBeGreaterThan(20);
  });
});

describe('what the engine accepts', () => {
  /** Sends 2 s of a tone as PCMU from the peer; `shape` adds header parts per packet. */
  async function sendTone(s: RtpStream, shape: (i: number) => Partial<Parameters<typeof buildRtp>[0]>, hz = 1000): Promise<void> {
    const audio = sine(hz, 2000, 8000, -12);
    const codes = addon.g711.encode('PCMU', audio);
    for (let i = 0; i < 100; i++) {
      await peer.send(
        buildRtp({ payloadType: 0, seq: 1000 + i, timestamp: 5000 + 160 * i, ssrc: 0xabcdef01, payload: codes.subarray(160 * i, 160 * (i + 1)), ...shape(i) }),
        s.localRtpPort,
      );
      await run(s, 20);
    }
  }

  it('skips CSRCs and header extensions and removes padding (RFC 3550 §5.1, §5.3.1)', async () => {
    open();
    const s = stream();
    await sendTone(s, (i) => ({ csrcs: i % 3 === 0 ? [1, 2, 3] : [], extensionWords: i % 2 === 0 ? 2 : -1, padding: i % 5 === 0 ? 4 : 0 }));
    const stats = s.getStats();
    engine.close();
    const out = readWav(join(dir, 'speaker.wav'));
    // A misparsed header would leave header bytes in the audio or shift it: the tone would not be clean.
    expect(stats.packetsReceived).toBe(100);
    expect(stats.invalidPackets).toBe(0);
    const tone = blockTone(out.samples, 8000, 1000, 300, 2000, 20);
    expect(tone.goodFraction).toBe(1);
    expect(tone.meanLevelDbfs).toBeGreaterThan(-12.5);
  });

  it('counts and drops broken packets and unknown payload types without disturbing the audio', async () => {
    open();
    const s = stream();
    await sendTone(s, () => ({}));
    await peer.send(Buffer.from([0x80, 0x00, 0x00]), s.localRtpPort); // shorter than a header
    await peer.send(buildRtp({ payloadType: 0, seq: 1, timestamp: 1, ssrc: 1, payload: new Uint8Array(4), padding: 0 }).fill(0x40, 0, 1), s.localRtpPort); // version 1
    await peer.send(buildRtp({ payloadType: 9, seq: 1200, timestamp: 1, ssrc: 0xabcdef01, payload: new Uint8Array(160) }), s.localRtpPort); // G.722, not configured
    const bad = buildRtp({ payloadType: 0, seq: 1201, timestamp: 1, ssrc: 0xabcdef01, payload: new Uint8Array(10) });
    bad[0]! |= 0x20; // claims padding ...
    bad[bad.length - 1] = 200; // ... longer than the packet
    await peer.send(bad, s.localRtpPort);
    await run(s, 40);
    const stats = s.getStats();
    expect(stats.invalidPackets).toBe(3);
    expect(stats.unknownPayloadType).toBe(1);
    expect(stats.packetsReceived).toBe(100);
  });

  it('plays RFC 3389 comfort noise at the level the CN packet signals', async () => {
    open();
    const s = stream({ comfortNoise: { payloadType: 13 } });
    await sendTone(s, () => ({}));
    // Silence begins: one CN packet with a level of 40 −dBov (RFC 3389 §3), then nothing.
    await peer.send(buildRtp({ payloadType: 13, seq: 1100, timestamp: 5000 + 160 * 100, ssrc: 0xabcdef01, payload: Uint8Array.of(40) }), s.localRtpPort);
    await run(s, 1000);
    const stats = s.getStats();
    engine.close();
    const out = readWav(join(dir, 'speaker.wav'));
    const noise = rmsDbfs(out.samples, samplesOf(2400, 8000), samplesOf(3000, 8000));
    console.log('comfort noise', noise, 'dBFS; stats', stats);
    expect(noise).toBeGreaterThan(-41.5); // 40 dBov below the overload point: RMS −40 dBFS
    expect(noise).toBeLessThan(-38.5);
    expect(stats.comfortNoiseMs).toBeGreaterThan(500);
    expect(stats.concealedMs).toBe(0); // the gap after CN is silence, not loss
  });

  it('latching: sends to where the validated packets come from, not to the configured remote (NAT)', async () => {
    open({ toneHz: 1000 });
    const s = engine.createStream({
      local: { address: '127.0.0.1' },
      remote: { address: '127.0.0.1', port: 9 }, // what the SDP said: not where the peer really is
      rtcpMux: true,
      latching: true,
      codec: { name: 'PCMU' },
    });
    s.start();
    const before = (): number => s.getStats().packetsSent + s.getStats().rtcpSent;
    for (let t = 0; t < 100; t += 10) engine.advance(10);
    // The first packet is on probation (RFC 3550 A.1); the second validates the source and latches.
    for (let i = 0; i < 2; i++) {
      await peer.send(buildRtp({ payloadType: 0, seq: 10 + i, timestamp: 160 * i, ssrc: 77, payload: new Uint8Array(160).fill(0xff) }), s.localRtpPort);
      if (i === 0) engine.advance(20);
    }
    const lost = before();
    expect(lost).toBeGreaterThan(2); // sent to port 9 so far
    expect(peer.rtp.length).toBe(0);
    await run(s, 300, lost);
    expect(events).toContainEqual(expect.objectContaining({ type: 'remoteLatched', address: '127.0.0.1', port: peer.port, rtcp: false }));
    expect(peer.rtp.length).toBeGreaterThan(8);
    expect(peer.rtp.every((p) => p.header.ssrc === s.localSsrc)).toBe(true);
  });
});
