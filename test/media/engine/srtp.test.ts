// SRTP between two native engines (RFC 3711, SDES keys of RFC 4568): tones arrive both ways, a wrong key is silence and counted, SRTCP flows, re-keying.
import { afterEach, describe, expect, it } from 'vitest';
import { MediaEngineError, type MediaEngineEvent } from '../../../firmware/media/media-engine.js';
import { MockMediaEngine } from '../../../firmware/media/mock-media-engine.js';
import { decodeSrtpKey, generateSrtpKey, SRTP_SUITES, type SrtpOptions, type SrtpSuite } from '../../../firmware/media/srtp.js';
import { EnginePair, type EnginePairOptions } from '../support/engine-pair.js';
import { blockTone, rmsDbfs } from '../support/goertzel.js';
import { isRtcp } from '../support/impairment-relay.js';

let pair: EnginePair | undefined;

afterEach(async () => {
  await pair?.close();
  pair?.dispose();
  pair = undefined;
});

interface Keys {
  a: string;
  b: string;
}

/** A pair whose streams get SRTP before the first tick (virtual time stands still until run()). */
async function srtpPair(options: Omit<EnginePairOptions, 'seed'> & { seed?: number }, suite: SrtpSuite, keys: Keys, bHearsKey = keys.a): Promise<EnginePair> {
  const p = await EnginePair.open({ seed: 3, ...options });
  p.a.stream.update({ srtp: { suite, localKey: keys.a, remoteKey: keys.b } });
  p.b.stream.update({ srtp: { suite, localKey: keys.b, remoteKey: bHearsKey } });
  return p;
}

/** Stops the relay forwarding and runs on until the engines have read every packet still in flight. */
async function drain(p: EnginePair): Promise<void> {
  p.relay.forwarding = false;
  await p.run(100);
}

/** Records the size of every RTP datagram the relay forwards from A to B. */
function recordRtpSizes(p: EnginePair): number[] {
  const sizes: number[] = [];
  p.relay.rewrite = (data, direction) => {
    if (direction === 'aToB' && !isRtcp(data)) sizes.push(data.length);
    return data;
  };
  return sizes;
}

describe('SRTP both ways between two engines', () => {
  it('AES_CM_128_HMAC_SHA1_80, PCMU: both tones arrive, every packet carries the 80-bit tag, SRTCP reports flow', async () => {
    const keys = { a: generateSrtpKey(), b: generateSrtpKey() };
    pair = await srtpPair({ codec: { name: 'PCMU' }, toneA: 1000, toneB: 440 }, 'AES_CM_128_HMAC_SHA1_80', keys);
    const sizes = recordRtpSizes(pair);
    await pair.run(4000);
    const statsA = pair.a.stream.getStats();
    const statsB = pair.b.stream.getStats();
    const { a, b } = await pair.close();
    const heardByB = blockTone(b.samples, b.sampleRateHz, 1000, 500, 4000);
    const heardByA = blockTone(a.samples, a.sampleRateHz, 440, 500, 4000);
    console.log('SRTP _80: B hears 1000 Hz', heardByB, 'A hears 440 Hz', heardByA, 'B stats', statsB);
    expect(heardByB.meanLevelDbfs).toBeGreaterThan(-13);
    expect(heardByB.meanShare).toBeGreaterThan(0.97);
    expect(heardByA.meanLevelDbfs).toBeGreaterThan(-13);
    expect(heardByA.meanShare).toBeGreaterThan(0.97);
    // 12 header + 160 PCMU + 10 tag octets (RFC 3711 §3.1; no MKI).
    expect(sizes.length).toBeGreaterThan(190);
    expect(new Set(sizes)).toEqual(new Set([12 + 160 + 10]));
    for (const s of [statsA, statsB]) {
      expect(s.srtpAuthFailures).toBe(0);
      expect(s.srtpReplayDropped).toBe(0);
      expect(s.invalidPackets).toBe(0);
      expect(s.packetsReceived).toBeGreaterThan(190);
      expect(s.rtcpReceived).toBeGreaterThanOrEqual(1); // the first report comes after 2.5 s ± 50 % (RFC 3550 §6.2)
      expect(s.remote).not.toBeNull();
    }
  });

  it('AES_CM_128_HMAC_SHA1_32, Opus 16 kHz, RTCP on its own port: tones arrive with a 32-bit tag; SRTCP SR/RR give an RTT', async () => {
    const keys = { a: generateSrtpKey(), b: generateSrtpKey() };
    pair = await srtpPair(
      {
        codec: { name: 'opus', payloadType: 111, sampleRateHz: 16000, bitrateBps: 24000 },
        sampleRateHz: 16000,
        toneA: 1000,
        toneB: 440,
        rtcpMux: false,
        stream: { rtcpMinIntervalMs: 500 },
        aToB: { delayMs: 20 },
        bToA: { delayMs: 20 },
      },
      'AES_CM_128_HMAC_SHA1_32',
      keys,
    );
    const sizes: { rtp: number[]; rtcp: number[] } = { rtp: [], rtcp: [] };
    pair.relay.rewrite = (data, direction) => {
      if (direction === 'aToB') sizes.rtp.push(data.length);
      return data;
    };
    await pair.run(4000);
    await drain(pair);
    const statsA = pair.a.stream.getStats();
    const statsB = pair.b.stream.getStats();
    const { a, b } = await pair.close();
    const heardByB = blockTone(b.samples, b.sampleRateHz, 1000, 500, 4000);
    const heardByA = blockTone(a.samples, a.sampleRateHz, 440, 500, 4000);
    console.log('SRTP _32 opus: B hears', heardByB, 'A hears', heardByA, 'A stats', statsA);
    expect(heardByB.meanShare).toBeGreaterThan(0.95);
    expect(heardByB.meanLevelDbfs).toBeGreaterThan(-14);
    expect(heardByA.meanShare).toBeGreaterThan(0.95);
    // Opus packets vary in size, so check the tag through the plain size the receiver counted:
    // every datagram is RTP header + payload + 4 octets (RFC 4568 §6.2.2).
    const payloadOctets = statsB.bytesReceived;
    const datagramOctets = sizes.rtp.reduce((x, y) => x + y, 0);
    expect(statsB.packetsReceived).toBe(sizes.rtp.length);
    expect(datagramOctets).toBe(payloadOctets + sizes.rtp.length * (12 + 4));
    // SRTCP (RFC 3711 §3.4) on the RTCP port: reports were decrypted and authenticated, since the RTT
    // comes from our SR's time echoed in the peer's report (RFC 3550 §6.4.1).
    for (const s of [statsA, statsB]) {
      expect(s.rtcpSent).toBeGreaterThanOrEqual(3);
      expect(s.rtcpReceived).toBeGreaterThanOrEqual(3);
      expect(s.remote).not.toBeNull();
      expect(s.rttMs).not.toBeNull();
      expect(s.rttMs ?? 0).toBeGreaterThanOrEqual(35); // 20 ms each way through the relay, on 10 ms ticks
      expect(s.rttMs ?? 0).toBeLessThanOrEqual(65);
      expect(s.srtpAuthFailures).toBe(0);
    }
  });
});

describe('a packet that fails authentication is dropped and counted: silence, not noise', () => {
  it('B expects another key from A: B plays nothing at all, counts every RTP and RTCP packet of A, and times out; A hears B', async () => {
    const keys = { a: generateSrtpKey(), b: generateSrtpKey() };
    pair = await srtpPair(
      { codec: { name: 'PCMU' }, toneA: 1000, toneB: 440, stream: { rtcpMinIntervalMs: 500, rtpTimeoutMs: 1000 } },
      'AES_CM_128_HMAC_SHA1_80',
      keys,
      generateSrtpKey(),
    );
    await pair.run(3000);
    await drain(pair);
    const statsA = pair.a.stream.getStats();
    const statsB = pair.b.stream.getStats();
    const relayAToB = pair.relay.stats.aToB;
    const eventsB: MediaEngineEvent[] = pair.b.events;
    const { a, b } = await pair.close();
    console.log('wrong key: B stats', statsB, 'relay A→B', relayAToB);
    // Not one sample of decrypted garbage reached B's speaker.
    expect(rmsDbfs(b.samples)).toBe(-Infinity);
    expect(statsB.packetsReceived).toBe(0);
    expect(statsB.remoteSsrc).toBeNull();
    expect(statsB.rtcpReceived).toBe(0);
    expect(statsB.srtpAuthFailures).toBe(relayAToB.forwarded);
    expect(statsB.srtpAuthFailures).toBeGreaterThan(140);
    // Dropped packets are no sign of life: the RTP timeout fires as if nothing came.
    expect(eventsB.some((e) => e.type === 'rtpTimeout')).toBe(true);
    // The other direction is unharmed.
    expect(statsA.srtpAuthFailures).toBe(0);
    expect(blockTone(a.samples, a.sampleRateHz, 440, 500, 3000).meanShare).toBeGreaterThan(0.97);
  });

  it('plain RTP sent to an SRTP stream (a downgrade) is dropped as failing authentication', async () => {
    pair = await EnginePair.open({ codec: { name: 'PCMU' }, toneA: 1000, toneB: 0, seed: 5 });
    pair.b.stream.update({ srtp: { suite: 'AES_CM_128_HMAC_SHA1_80', localKey: generateSrtpKey(), remoteKey: generateSrtpKey() } });
    await pair.run(1000);
    await drain(pair);
    const statsB = pair.b.stream.getStats();
    const { b } = await pair.close();
    expect(rmsDbfs(b.samples)).toBe(-Infinity);
    expect(statsB.packetsReceived).toBe(0);
    expect(statsB.srtpAuthFailures + statsB.invalidPackets).toBe(pair.relay.stats.aToB.forwarded);
    expect(statsB.srtpAuthFailures).toBeGreaterThan(40);
  });
});

describe('replay protection (RFC 3711 §3.3.2, libsrtp defaults)', () => {
  it('a duplicated packet is dropped as a replay before the jitter buffer sees it', async () => {
    const keys = { a: generateSrtpKey(), b: generateSrtpKey() };
    pair = await srtpPair(
      { codec: { name: 'PCMU' }, toneA: 1000, toneB: 440, aToB: { delayMs: 20, jitterMs: 10, duplicateRate: 0.1 } },
      'AES_CM_128_HMAC_SHA1_80',
      keys,
    );
    await pair.run(3000);
    await drain(pair);
    const statsB = pair.b.stream.getStats();
    const relay = pair.relay.stats.aToB;
    const { b } = await pair.close();
    console.log('replays: relay duplicated', relay.duplicated, 'B', statsB.srtpReplayDropped, statsB.duplicates);
    expect(relay.duplicated).toBeGreaterThan(5);
    expect(statsB.srtpReplayDropped).toBe(relay.duplicated);
    expect(statsB.duplicates).toBe(0);
    expect(statsB.srtpAuthFailures).toBe(0);
    expect(blockTone(b.samples, b.sampleRateHz, 1000, 500, 3000).meanShare).toBeGreaterThan(0.97);
  });
});

describe('re-keying with update() (RFC 4568 §7.1.4)', () => {
  it('new keys for A→B on both ends keep the tone; an update that keeps the keys keeps the SRTP state; a one-sided re-key is silence', async () => {
    const keys = { a: generateSrtpKey(), b: generateSrtpKey() };
    pair = await srtpPair({ codec: { name: 'PCMU' }, toneA: 1000, toneB: 440 }, 'AES_CM_128_HMAC_SHA1_80', keys);
    await pair.run(1000);
    // A re-INVITE that changes nothing in SRTP: the sessions, their rollover counters and replay
    // windows stay, so nothing is dropped (a fresh receiver session would still accept; a fresh
    // sender session would reuse keystream, which this cannot see, hence the next step's check).
    pair.a.stream.update({ srtp: { suite: 'AES_CM_128_HMAC_SHA1_80', localKey: keys.a, remoteKey: keys.b } });
    await pair.run(500);
    // A re-keys A→B, and B learns the new key (answer): no failure on either side.
    const next = generateSrtpKey();
    pair.a.stream.update({ srtp: { suite: 'AES_CM_128_HMAC_SHA1_80', localKey: next, remoteKey: keys.b } });
    pair.b.stream.update({ srtp: { suite: 'AES_CM_128_HMAC_SHA1_80', localKey: keys.b, remoteKey: next } });
    await pair.run(1000);
    const afterRekey = pair.b.stream.getStats();
    expect(afterRekey.srtpAuthFailures).toBe(0);
    expect(afterRekey.srtpReplayDropped).toBe(0);
    expect(pair.a.stream.getStats().srtpAuthFailures).toBe(0);
    // A re-keys again but B is not told: A→B fails from now on, B→A goes on.
    pair.a.stream.update({ srtp: { suite: 'AES_CM_128_HMAC_SHA1_80', localKey: generateSrtpKey(), remoteKey: keys.b } });
    await pair.run(1000);
    const statsB = pair.b.stream.getStats();
    const statsA = pair.a.stream.getStats();
    const { a, b } = await pair.close();
    expect(statsB.srtpAuthFailures).toBeGreaterThan(45);
    expect(statsA.srtpAuthFailures).toBe(0);
    expect(blockTone(b.samples, b.sampleRateHz, 1000, 500, 2400).meanShare).toBeGreaterThan(0.97);
    expect(rmsDbfs(b.samples, (b.sampleRateHz * 2700) / 1000, (b.sampleRateHz * 3500) / 1000)).toBe(-Infinity);
    expect(blockTone(a.samples, a.sampleRateHz, 440, 500, 3500).meanShare).toBeGreaterThan(0.97);
  });

  it('update({ srtp: null }) goes back to plain RTP', async () => {
    const keys = { a: generateSrtpKey(), b: generateSrtpKey() };
    pair = await srtpPair({ codec: { name: 'PCMU' }, toneA: 1000, toneB: 440 }, 'AES_CM_128_HMAC_SHA1_32', keys);
    const sizes = recordRtpSizes(pair);
    await pair.run(500);
    pair.a.stream.update({ srtp: null });
    pair.b.stream.update({ srtp: null });
    const before = sizes.length;
    await pair.run(500);
    expect(new Set(sizes.slice(0, before - 1))).toEqual(new Set([12 + 160 + 4]));
    expect(new Set(sizes.slice(before + 1))).toEqual(new Set([12 + 160]));
  });
});

describe('SRTP options', () => {
  it('generateSrtpKey(): 30 random octets in base64, a new key each time, from an injected source when given', () => {
    const k1 = generateSrtpKey();
    const k2 = generateSrtpKey();
    expect(k1).toMatch(/^[A-Za-z0-9+/]{40}$/);
    expect(k1).not.toBe(k2);
    expect(decodeSrtpKey('k', k1).length).toBe(30);
    expect(generateSrtpKey((n) => new Uint8Array(n).fill(0xff))).toBe('/'.repeat(40));
    expect(() => generateSrtpKey(() => new Uint8Array(16))).toThrow(RangeError);
    expect(SRTP_SUITES.map((s) => [s.name, s.srtpAuthTagBits, s.srtcpAuthTagBits])).toEqual([
      ['AES_CM_128_HMAC_SHA1_80', 80, 80],
      ['AES_CM_128_HMAC_SHA1_32', 32, 80],
    ]);
  });

  it('a bad suite or key is ERR_MEDIA_CONFIG naming the field, on the mock and the native engine alike', async () => {
    const good = generateSrtpKey();
    const cases: [SrtpOptions, string][] = [
      [{ suite: 'AES_CM_128_HMAC_SHA1_80', localKey: good, remoteKey: good.slice(0, 32) }, 'srtp.remoteKey'],
      [{ suite: 'AES_CM_128_HMAC_SHA1_80', localKey: `${good.slice(0, 39)}!`, remoteKey: good }, 'srtp.localKey'],
      [{ suite: 'AES_256_CM_HMAC_SHA1_80' as SrtpSuite, localKey: good, remoteKey: good }, 'srtp.suite'],
      [{ suite: 'AES_CM_128_HMAC_SHA1_32', localKey: Buffer.alloc(16).toString('base64'), remoteKey: good }, 'srtp.localKey'],
    ];
    pair = await EnginePair.open({ codec: { name: 'PCMU' }, toneA: 0, toneB: 0, seed: 1 });
    const mock = new MockMediaEngine();
    for (const [srtp, field] of cases) {
      for (const create of [
        () => pair?.a.engine.createStream({ local: { address: '127.0.0.1' }, codec: { name: 'PCMU' }, srtp }),
        () => mock.createStream({ local: { address: '127.0.0.1' }, codec: { name: 'PCMU' }, srtp }),
        () => pair?.a.stream.update({ srtp }),
      ]) {
        let caught: unknown;
        try {
          create();
        } catch (err) {
          caught = err;
        }
        expect(caught).toBeInstanceOf(MediaEngineError);
        expect((caught as MediaEngineError).code).toBe('ERR_MEDIA_CONFIG');
        expect((caught as MediaEngineError).field).toBe(field);
      }
    }
    // A failed update changed nothing: the stream still runs plain RTP.
    await pair.run(300);
    expect(pair.b.stream.getStats().packetsReceived).toBeGreaterThan(10);
  });
});
