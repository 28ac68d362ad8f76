// The composition root's AudioControls on a (mock) media engine: volume steps → dB per path with the config's calibration, mute → engine mute.
import { describe, expect, it } from 'vitest';
import { EngineAudioControls, VOLUME_MIDDLE, volumeGainDb } from '../../firmware/audio-controls.js';
import type { AudioGains } from '../../firmware/media/media-engine.js';
import { MockMediaEngine } from '../../firmware/media/mock-media-engine.js';
import { silentLogger } from '../../firmware/util/log.js';
import { FakeCallService } from './support/fake-call-service.js';
import { phoneBoard } from './support/phone-board.js';

const PATHS = {
  handset: { micGainDb: -3, speakerGainDb: 2 },
  speaker: { micGainDb: 4, speakerGainDb: -6 },
  headset: { micGainDb: 0, speakerGainDb: 0 },
};

function gainCalls(media: MockMediaEngine): AudioGains[] {
  return media.calls.flatMap((c) => (c.method === 'setGains' ? [c.gains] : []));
}

describe('volume steps as dB', () => {
  it('3 dB a step around the calibration at the middle step; step 0 is the engine floor; clamped to −40..+20', () => {
    expect(VOLUME_MIDDLE).toBe(5);
    expect(volumeGainDb(5, 2)).toBe(2);
    expect(volumeGainDb(6, 2)).toBe(5);
    expect(volumeGainDb(10, 2)).toBe(17);
    expect(volumeGainDb(1, 2)).toBe(-10);
    expect(volumeGainDb(0, 2)).toBe(-40);
    expect(volumeGainDb(10, 12)).toBe(20);
    expect(volumeGainDb(1, -30)).toBe(-40);
  });
});

describe('EngineAudioControls in a phone', () => {
  async function inCall() {
    const media = new MockMediaEngine();
    const audio = new EngineAudioControls({ engine: media, paths: PATHS, log: silentLogger() });
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, media, phone: { audio } });
    audio.start(b.settings.settings.volume);
    await b.lift();
    await b.keys('1002#');
    calls.last.answered();
    await b.wait();
    return { b, media };
  }

  it('start: every path gets its calibrated mic gain and its speaker gain at the saved step (the headset follows the handset)', async () => {
    const { b, media } = await inCall();
    expect(gainCalls(media).slice(0, 3)).toEqual([
      { path: 'handset', micGainDb: -3, speakerGainDb: 2 },
      { path: 'speaker', micGainDb: 4, speakerGainDb: -6 },
      { path: 'headset', micGainDb: 0, speakerGainDb: 0 },
    ]);
    await b.settings.flush();
  });

  it('Vol+ on a call: setGains with 3 dB more on the handset (and headset); Vol- back', async () => {
    const { b, media } = await inCall();
    media.calls.length = 0;
    await b.keys('D'); // the second softkey page: Vol- Vol+ Qual More
    await b.keys('B');
    expect(b.lcd()[2]).toBe('Handset vol 6');
    expect(gainCalls(media)).toEqual([
      { path: 'handset', speakerGainDb: 5 },
      { path: 'headset', speakerGainDb: 3 },
    ]);
    expect(media.gains.handset).toEqual({ micGainDb: -3, speakerGainDb: 5 });
    await b.keys('A');
    expect(media.gains.handset).toEqual({ micGainDb: -3, speakerGainDb: 2 });
    await b.settings.flush();
  });

  it('mute softkey → setMuted(true); again → setMuted(false)', async () => {
    const { b, media } = await inCall();
    await b.keys('B');
    expect(media.muted).toBe(true);
    await b.keys('B');
    expect(media.muted).toBe(false);
    expect(media.calls.filter((c) => c.method === 'setMuted')).toEqual([
      { method: 'setMuted', muted: true },
      { method: 'setMuted', muted: false },
    ]);
    await b.settings.flush();
  });

  it('a closed engine is logged, not thrown at the phone', () => {
    const media = new MockMediaEngine();
    media.close();
    const audio = new EngineAudioControls({ engine: media, paths: PATHS, log: silentLogger() });
    expect(() => audio.setVolume('speaker', 3)).not.toThrow();
    expect(() => audio.setMuted(true)).not.toThrow();
  });
});
