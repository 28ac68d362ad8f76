// Two native engines exchange G.711 and Opus audio over loopback UDP through an impairment relay: tones arrive, stats match the relay.
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { blockTone, rmsDbfs, samplesOf } from '../support/goertzel.js';
import { EnginePair } from '../support/engine-pair.js';
import { writeWav } from '../support/wav-file.js';

let pair: EnginePair | undefined;

afterEach(async () => {
  await pair?.close();
  pair?.dispose();
  pair = undefined;
});

/** The two test tones over [fromMs, toMs), in blocks of blockMs (see blockTone). */
function levels(samples: Int16Array, rate: number, fromMs: number, toMs: number, blockMs = 100) {
  return { tone1000: blockTone(samples, rate, 1000, fromMs, toMs, blockMs), tone440: blockTone(samples, rate, 440, fromMs, toMs, blockMs) };
}

describe('PCMU between two engines through an impaired path', () => {
  it('1000 Hz goes A→B and 440 Hz B→A; each side hears only the other tone', async () => {
    pair = await EnginePair.open({
      codec: { name: 'PCMU' },
      sampleRateHz: 16000, // the engine runs at 16 kHz: both directions are resampled to and from 8 kHz
      toneA: 1000,
      toneB: 440,
      seed: 7,
      aToB: { delayMs: 30, jitterMs: 25, lossRate: 0.05, reorderRate: 0.03, duplicateRate: 0.03 },
      bToA: { delayMs: 30, jitterMs: 10, lossRate: 0.02 },
    });
    await pair.run(4000);
    const statsB = pair.b.stream.getStats();
    const statsA = pair.a.stream.getStats();
    const { a, b } = await pair.close();
    const rate = a.sampleRateHz;
    expect(rate).toBe(16000);
    expect(b.samples.length).toBe(samplesOf(4000, rate)); // one period written per 10 ms tick, none missing

    // The sender's microphone is a −12 dBFS sine; G.711 and the resamplers keep its level within 1 dB
    // where it arrives, and concealment (5 % loss) costs little of its purity.
    const heardByB = levels(b.samples, rate, 1000, 4000);
    const heardByA = levels(a.samples, rate, 1000, 4000);
    console.log('B hears', heardByB, 'A hears', heardByA);
    expect(heardByB.tone1000.meanLevelDbfs).toBeGreaterThan(-13);
    expect(heardByB.tone1000.meanLevelDbfs).toBeLessThan(-11);
    expect(heardByB.tone440.meanLevelDbfs).toBeLessThan(-60);
    expect(heardByB.tone1000.meanShare).toBeGreaterThan(0.97);
    expect(heardByA.tone440.meanLevelDbfs).toBeGreaterThan(-13);
    expect(heardByA.tone1000.meanLevelDbfs).toBeLessThan(-60);
    expect(heardByA.tone440.meanShare).toBeGreaterThan(0.97);
    // Silence before the first packet can have arrived and been played (one-way 30 ms + buffer).
    expect(rmsDbfs(b.samples, 0, samplesOf(30, rate))).toBe(-Infinity);

    // What B measured matches what the relay did on A→B.
    const relay = pair.relay.stats.aToB;
    console.log('relay A→B', relay, 'B stats', statsB);
    expect(statsB.packetsLost).toBeGreaterThan(0);
    expect(Math.abs(statsB.packetsLost - (relay.dropped - relay.duplicated))).toBeLessThanOrEqual(3);
    expect(statsB.duplicates).toBeGreaterThan(0);
    expect(statsB.reordered + statsB.lateDropped).toBeGreaterThan(0);
    expect(statsB.concealedMs).toBeGreaterThan(0);
    expect(statsB.jitterMs).toBeGreaterThan(2);
    expect(statsA.packetsSent).toBeGreaterThan(190); // 4 s at 20 ms
    expect(statsB.packetsReceived).toBe(relay.rtpForwarded);

    // The live E-model agrees with G.107 computed here from the same inputs (G.711: Ie 0, Bpl 25.1).
    const ppl = statsB.effectiveLossPercent;
    const ieEff = (95 * ppl) / (ppl / statsB.burstRatio + 25.1);
    const d = statsB.oneWayDelayMs;
    const r = 93.2 - (0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0)) - ieEff;
    expect(statsB.rFactor).toBeCloseTo(r, 6);
    expect(statsB.rFactor).toBeLessThan(statsA.rFactor); // more loss on A→B than on B→A
    expect(statsB.mos).toBeGreaterThan(3);
    expect(statsB.mos).toBeLessThan(4.4);
  });
});

describe('Opus 16 kHz with in-band FEC under 10 % loss', () => {
  // A steady sine makes libopus' SILK VAD decide after a while that there is no speech, and then it
  // stops sending LBRR (FEC) data (silk/enc_API.c codes LBRR only above a speech activity of 0.3).
  // A 1000 Hz tone with a 3 Hz syllabic envelope keeps it talking, like a voice.
  function syllabicTone(path: string): void {
    const rate = 16000;
    const n = rate * 5;
    const samples = Int16Array.from({ length: n }, (_, i) => {
      const t = i / rate;
      const envelope = 0.55 + 0.45 * Math.sin(2 * Math.PI * 3 * t);
      return Math.round(32767 * 10 ** (-9 / 20) * envelope * Math.sin(2 * Math.PI * 1000 * t));
    });
    writeWav(path, { sampleRateHz: rate, samples });
  }

  async function runOpus(fec: boolean, wavPath: string) {
    const p = await EnginePair.open({
      codec: { name: 'opus', payloadType: 111, sampleRateHz: 16000, fec, expectedLossPercent: 10, bitrateBps: 24000 },
      sampleRateHz: 16000,
      toneA: 0,
      toneB: 440,
      captureA: { wavPath },
      seed: 11,
      aToB: { delayMs: 20, jitterMs: 5, lossRate: 0.1 },
    });
    await p.run(4000);
    const stats = p.b.stream.getStats();
    const dropped = p.relay.stats.aToB.dropped;
    const { a, b } = await p.close();
    p.dispose();
    // 20 ms blocks: one block per frame, so a badly concealed frame counts as one bad block.
    return { stats, dropped, heard: levels(b.samples, b.sampleRateHz, 500, 4000, 20), heardByA: levels(a.samples, a.sampleRateHz, 500, 4000) };
  }

  it('the tone arrives, and lost frames are rebuilt from the next packet’s FEC', async () => {
    const dir = EnginePair.scratch();
    try {
      const wavPath = join(dir, 'syllables.wav');
      syllabicTone(wavPath);
      const withFec = await runOpus(true, wavPath);
      const withoutFec = await runOpus(false, wavPath);
      console.log('opus FEC', withFec, 'no FEC', withoutFec);
      // The same seeded loss both times.
      expect(withFec.dropped).toBe(withoutFec.dropped);
      expect(withFec.dropped).toBeGreaterThan(15);
      // 0.87 measured: besides the concealed frames, the play-out realignment may skip half a frame once.
      expect(withFec.heard.tone1000.goodFraction).toBeGreaterThan(0.86);
      expect(withFec.heard.tone440.meanLevelDbfs).toBeLessThan(-50);
      // B→A had no loss: the steady 440 Hz arrives clean.
      expect(withFec.heardByA.tone440.meanShare).toBeGreaterThan(0.97);
      // Most losses were single packets followed by one with LBRR data; without FEC none is rebuilt.
      expect(withFec.stats.fecRecoveredFrames).toBeGreaterThan(withFec.dropped / 2);
      expect(withoutFec.stats.fecRecoveredFrames).toBe(0);
      expect(withoutFec.stats.concealedMs).toBeGreaterThan(withFec.stats.concealedMs);
      // FEC sounds better, and the live rating knows: the decoder missed less.
      expect(withFec.heard.tone1000.goodFraction).toBeGreaterThan(withoutFec.heard.tone1000.goodFraction);
      expect(withFec.heard.tone1000.meanShare).toBeGreaterThan(withoutFec.heard.tone1000.meanShare);
      expect(withFec.stats.effectiveLossPercent).toBeLessThan(withoutFec.stats.effectiveLossPercent);
      expect(withFec.stats.rFactor).toBeGreaterThan(withoutFec.stats.rFactor);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
