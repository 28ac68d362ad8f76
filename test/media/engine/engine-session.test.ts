// Session behaviour between two engines: an SSRC change mid-stream, RTCP reports of the relay's loss and the RTT, the RTP timeout and hold.
import { afterEach, describe, expect, it } from 'vitest';
import type { RtpTimeoutEvent, SsrcChangedEvent, StatsEvent } from '../../../firmware/media/media-engine.js';
import { EnginePair } from '../support/engine-pair.js';
import { blockTone } from '../support/goertzel.js';
import { isRtcp } from '../support/impairment-relay.js';

let pair: EnginePair | undefined;

afterEach(async () => {
  await pair?.close();
  pair?.dispose();
  pair = undefined;
});

describe('SSRC change mid-stream (a B2BUA switching legs, RFC 3550 §8.2)', () => {
  it('keeps playing the audio: new source, new sequence and timestamp bases', async () => {
    pair = await EnginePair.open({ codec: { name: 'PCMU' }, toneA: 1000, toneB: 0, seed: 21, aToB: { delayMs: 20, jitterMs: 8 } });
    const newSsrc = 0x5eed0001;
    let switched = false;
    pair.relay.rewrite = (data, direction) => {
      if (!switched || direction !== 'aToB' || isRtcp(data)) return data;
      const out = Buffer.from(data);
      out.writeUInt32BE(newSsrc, 8);
      out.writeUInt16BE((data.readUInt16BE(2) + 12345) & 0xffff, 2);
      out.writeUInt32BE((data.readUInt32BE(4) + 777777) >>> 0, 4);
      return out;
    };
    await pair.run(1500);
    switched = true;
    await pair.run(1500);
    const stats = pair.b.stream.getStats();
    const change = pair.b.events.filter((e): e is SsrcChangedEvent => e.type === 'ssrcChanged');
    const { b } = await pair.close();
    expect(change).toHaveLength(1);
    expect(change[0]).toMatchObject({ ssrc: newSsrc, previousSsrc: pair.a.stream.localSsrc });
    expect(change[0]!.timeMs).toBeGreaterThanOrEqual(1500);
    expect(change[0]!.timeMs).toBeLessThan(1560);
    expect(stats.remoteSsrc).toBe(newSsrc);
    expect(stats.ssrcChanges).toBe(1);
    // Statistics restarted with the new source: its jump is not counted as 12345 lost packets.
    expect(stats.packetsLost).toBe(0);
    const before = blockTone(b.samples, b.sampleRateHz, 1000, 500, 1500, 20);
    const after = blockTone(b.samples, b.sampleRateHz, 1000, 1500, 3000, 20);
    console.log('before', before, 'after', after);
    expect(before.goodFraction).toBe(1);
    // At most two or three frames at the switch-over suffer (the jitter buffer restarts its timeline
    // and builds its delay up again: here 2 of 75 frames are silent), the rest is the tone.
    expect(after.blocks - Math.round(after.goodFraction * after.blocks)).toBeLessThanOrEqual(3);
    expect(after.meanShare).toBeGreaterThan(0.95);
  });
});

describe('RTCP (RFC 3550 §6.4) on its own port', () => {
  it('receiver reports carry the loss the relay injected, and SR/RR give the round-trip time', async () => {
    pair = await EnginePair.open({
      codec: { name: 'PCMU' },
      toneA: 1000,
      toneB: 440,
      seed: 5,
      rtcpMux: false,
      aToB: { delayMs: 40, lossRate: 0.1 },
      bToA: { delayMs: 40 },
    });
    await pair.run(13000);
    const a = pair.a.stream.getStats();
    const b = pair.b.stream.getStats();
    const relay = pair.relay.stats.aToB;
    console.log('A', a, 'B', b, 'relay dropped', relay.dropped, 'of', relay.rtpReceived);
    expect(pair.a.stream.localRtcpPort).toBe(pair.a.stream.localRtpPort + 1); // RFC 3550 §11
    // Reports went both ways at the RFC 3550 §6.3 interval: first after 1.03–3.08 s, then every 2.05–6.16 s.
    expect(a.rtcpSent).toBeGreaterThanOrEqual(2);
    expect(a.rtcpSent).toBeLessThanOrEqual(7);
    expect(b.rtcpReceived).toBe(a.rtcpSent);
    expect(a.rtcpReceived).toBe(b.rtcpSent);
    // What B reported about A's stream: exactly the packets the relay dropped up to the highest
    // sequence number B had seen when it wrote the report.
    expect(a.remote).not.toBeNull();
    const remote = a.remote!;
    const first = relay.droppedSeqs[0]!;
    const highest16 = remote.highestSeq & 0xffff;
    const upTo = (seq: number) => ((seq - first + 0x10000) & 0xffff) <= ((highest16 - first + 0x10000) & 0xffff);
    expect(remote.cumulativeLost).toBe(relay.droppedSeqs.filter(upTo).length);
    expect(remote.cumulativeLost).toBeGreaterThan(20);
    expect(remote.fractionLost).toBeGreaterThan(0.03);
    expect(remote.fractionLost).toBeLessThan(0.2);
    expect(remote.jitterMs).toBeLessThan(1); // the relay added no jitter
    // B's own view of the same loss.
    expect(Math.abs(b.packetsLost - relay.dropped)).toBeLessThanOrEqual(2);
    expect(b.packetsLost / b.packetsExpected).toBeGreaterThan(0.07);
    expect(b.packetsLost / b.packetsExpected).toBeLessThan(0.13);
    // 40 ms each way on the virtual clock: RTT = A − LSR − DLSR = 80 ms (RFC 3550 §6.4.1).
    expect(a.rttMs).not.toBeNull();
    expect(a.rttMs!).toBeGreaterThan(75);
    expect(a.rttMs!).toBeLessThan(90);
    expect(b.rttMs!).toBeGreaterThan(75);
    expect(b.rttMs!).toBeLessThan(90);
    // B→A had no loss: A's receiver report to B says so.
    expect(b.remote?.cumulativeLost).toBe(0);
    // The E-model sees the RTT in its delay: RTT/2 + buffer + ptime + device.
    expect(b.oneWayDelayMs).toBeCloseTo(b.rttMs! / 2 + b.bufferDelayMs + 20 + 20, 6);
    // Stats events came once a second of engine time.
    const statsEvents = pair.b.events.filter((e): e is StatsEvent => e.type === 'stats');
    expect(statsEvents.length).toBeGreaterThanOrEqual(12);
    expect(statsEvents.length).toBeLessThanOrEqual(13);
  });
});

describe('RTP timeout', () => {
  it('fires once when the path dies, not while on hold, and again after the call is resumed', async () => {
    pair = await EnginePair.open({
      codec: { name: 'PCMU' },
      toneA: 1000,
      toneB: 440,
      seed: 9,
      stream: { rtpTimeoutMs: 1000 },
      aToB: { delayMs: 20 },
      bToA: { delayMs: 20 },
    });
    const timeouts = () => pair!.b.events.filter((e): e is RtpTimeoutEvent => e.type === 'rtpTimeout');
    await pair.run(1000);
    expect(timeouts()).toHaveLength(0);
    pair.relay.forwarding = false; // the path dies at 1000 ms
    await pair.run(2500);
    expect(timeouts()).toHaveLength(1); // once, not every tick
    const first = timeouts()[0]!;
    // The last packet arrived at about 1000 + 20 ms; 1000 ms later the event.
    expect(first.timeMs).toBeGreaterThanOrEqual(2000);
    expect(first.timeMs).toBeLessThanOrEqual(2040);
    expect(first.silentMs).toBeGreaterThanOrEqual(1000);
    expect(pair.a.events.some((e) => e.type === 'rtpTimeout')).toBe(true);

    // Packets again: the timeout re-arms. Then hold (inactive): nothing expected, no timeout.
    pair.relay.forwarding = true;
    await pair.run(500);
    pair.b.stream.update({ direction: 'inactive' });
    pair.relay.forwarding = false;
    await pair.run(3000);
    expect(timeouts()).toHaveLength(1);
    // Resumed (sendrecv) with the path still dead: 1000 ms after the resume, the event.
    pair.b.stream.update({ direction: 'sendrecv' });
    const resumedAt = pair.nowMs;
    await pair.run(1500);
    expect(timeouts()).toHaveLength(2);
    expect(timeouts()[1]!.timeMs - resumedAt).toBeGreaterThanOrEqual(1000);
    expect(timeouts()[1]!.timeMs - resumedAt).toBeLessThanOrEqual(1020);
  });
});
