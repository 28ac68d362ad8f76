// Play-out alignment of the engine around its jitter buffer: frames of 20 ms on a 10 ms period grid start in whichever period the buffer allows, so a clean path keeps less than a period of delay.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RtpStreamStats } from '../../../firmware/media/media-engine.js';
import { blockTone } from '../support/goertzel.js';
import { VirtualEngines } from '../support/virtual-engines.js';
import { readWav } from '../support/wav-file.js';

let ve: VirtualEngines;
beforeEach(() => {
  ve = new VirtualEngines();
});
afterEach(() => {
  ve.dispose();
});

describe('play-out alignment', () => {
  // On the virtual clock a packet sent in a tick arrives at the other engine's same tick (it is
  // stepped after) or at its next one (it was stepped before): the transit is 0 or 10 ms, constant,
  // and the frame can play at once. Whether the 20 ms frames then start in the even or the odd
  // periods depends on when each stream started; the engine must not let that cost a period.
  for (const leadMs of [0, 10, 20, 30]) {
    it(`PCMU, the second stream started ${leadMs} ms after the first: both directions end up holding less than a period, audio intact`, async () => {
      const aWav = ve.path('a.wav');
      const bWav = ve.path('b.wav');
      const a = ve.open({ sampleRateHz: 8000, statsIntervalMs: 0, audio: { backend: 'file', capture: { toneHz: 440 }, playbackWavPath: aWav } });
      const b = ve.open({ sampleRateHz: 8000, statsIntervalMs: 0, audio: { backend: 'file', capture: { toneHz: 1000 }, playbackWavPath: bWav } });
      const sa = a.engine.createStream({ local: { address: '127.0.0.1' }, rtcpMux: true, codec: { name: 'PCMU' } });
      const sb = b.engine.createStream({ local: { address: '127.0.0.1' }, rtcpMux: true, codec: { name: 'PCMU' } });
      sa.update({ remote: { address: '127.0.0.1', port: sb.localRtpPort } });
      sb.update({ remote: { address: '127.0.0.1', port: sa.localRtpPort } });
      sa.start();
      ve.step([a, b], leadMs);
      sb.start();
      ve.step([a, b], 10_000);
      const stats: RtpStreamStats[] = [sa.getStats(), sb.getStats()];
      await ve.close();
      console.log(`lead ${leadMs} ms: buffer delay A ${stats[0]?.bufferDelayMs} ms (target ${stats[0]?.bufferTargetMs}), B ${stats[1]?.bufferDelayMs} ms (target ${stats[1]?.bufferTargetMs})`);
      for (const s of stats) {
        expect(s.bufferDelayMs).toBeLessThan(10);
        expect(s.lateDropped).toBe(0);
      }
      // Skipping half a frame now and then (at most every 2 s) is all the alignment costs.
      const heardByA = readWav(aWav);
      const heardByB = readWav(bWav);
      expect(blockTone(heardByA.samples, 8000, 1000, 1000, 10_000).goodFraction).toBeGreaterThanOrEqual(0.95);
      expect(blockTone(heardByB.samples, 8000, 440, 1000, 10_000).goodFraction).toBeGreaterThanOrEqual(0.95);
    });
  }
});
