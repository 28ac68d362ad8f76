// RFC 4733 DTMF between two engines under loss, duplication and reordering: every digit once, in order; audio resumes.
import { afterEach, describe, expect, it } from 'vitest';
import type { DtmfEvent } from '../../../firmware/media/media-engine.js';
import { MediaEngineError } from '../../../firmware/media/media-engine.js';
import { EnginePair } from '../support/engine-pair.js';
import { blockTone } from '../support/goertzel.js';

let pair: EnginePair | undefined;

afterEach(async () => {
  await pair?.close();
  pair?.dispose();
  pair = undefined;
});

describe('telephone-event between two engines', () => {
  it('every digit arrives once, in order, with its end, under 20 % loss, duplicates and reordering', async () => {
    pair = await EnginePair.open({
      codec: { name: 'PCMU' },
      toneA: 1000,
      toneB: 0,
      seed: 3,
      stream: { telephoneEvent: { payloadType: 101 } },
      aToB: { delayMs: 20, jitterMs: 15, lossRate: 0.2, duplicateRate: 0.1, reorderRate: 0.1, reorderDelayMs: 25 },
    });
    await pair.run(500);
    const digits = '159#*0DA';
    pair.a.stream.sendDtmf(digits, { durationMs: 100, gapMs: 60 });
    await pair.run(2500);
    const sent = pair.a.stream.getStats();
    const events = pair.b.events.filter((e): e is DtmfEvent => e.type === 'dtmf');
    const begins = events.filter((e) => e.phase === 'begin').map((e) => e.digit);
    const ends = events.filter((e) => e.phase === 'end');
    const dropped = pair.relay.stats.aToB.droppedByPayloadType.get(101) ?? 0;
    console.log('telephone-event packets dropped', dropped, 'duplicated', pair.relay.stats.aToB.duplicated, events);

    expect(sent.dtmfEventsSent).toBe(digits.length);
    // The relay really took event packets away (seeded: the same ones every run).
    expect(dropped).toBeGreaterThan(5);
    expect(begins.join('')).toBe(digits);
    expect(ends.map((e) => e.digit).join('')).toBe(digits);
    // Each begin is followed by its own end before the next begin.
    expect(events.map((e) => e.phase).join(',')).toBe(Array.from({ length: digits.length }, () => 'begin,end').join(','));
    // 100 ms at 8000 Hz: the final duration field says 800 when an end packet arrived; when all three
    // were lost the event still ends, with the last duration an update carried.
    for (const e of ends) {
      expect(e.durationMs).toBeGreaterThanOrEqual(20);
      expect(e.durationMs).toBeLessThanOrEqual(100);
    }
    expect(ends.filter((e) => e.durationMs === 100).length).toBeGreaterThanOrEqual(digits.length - 2);

    // Audio is suppressed during events (RFC 4733 §2.6) and comes back after them.
    const { b } = await pair.close();
    const after = blockTone(b.samples, b.sampleRateHz, 1000, 2500, 3000, 20);
    expect(after.goodFraction).toBeGreaterThan(0.85); // 20 % loss still costs a concealed frame here and there
    const during = blockTone(b.samples, b.sampleRateHz, 1000, 600, 1900, 20);
    expect(during.goodFraction).toBeLessThan(0.6); // the gaps where events replaced audio
  });

  it('refuses digits it cannot send, with typed errors', async () => {
    pair = await EnginePair.open({ codec: { name: 'PCMA' }, toneA: 0, toneB: 0, seed: 5 });
    expect(() => pair!.a.stream.sendDtmf('1')).toThrow(MediaEngineError);
    expect(() => pair!.a.stream.sendDtmf('1')).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_STATE' }));
    await pair.close();
    pair.dispose();
    pair = await EnginePair.open({ codec: { name: 'PCMA' }, toneA: 0, toneB: 0, seed: 5, stream: { telephoneEvent: { payloadType: 101 } } });
    expect(() => pair!.a.stream.sendDtmf('12x')).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CONFIG' }));
    expect(() => pair!.a.stream.sendDtmf('1', { durationMs: 5000 })).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CONFIG' }));
    pair.a.stream.update({ direction: 'recvonly' });
    expect(() => pair!.a.stream.sendDtmf('1')).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_STATE' }));
  });
});
