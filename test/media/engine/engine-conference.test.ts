// 3-way conference with mix-minus: one engine with two calls joins them; each party hears exactly the other two, nobody hears itself.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MockMediaEngine } from '../../../firmware/media/mock-media-engine.js';
import { samplesOf, toneLevelDbfs } from '../support/goertzel.js';
import { VirtualEngines, type TestEngine } from '../support/virtual-engines.js';
import { readWav } from '../support/wav-file.js';

const RATE = 16000;
let ve: VirtualEngines;
beforeEach(() => {
  ve = new VirtualEngines();
});
afterEach(() => {
  ve.dispose();
});

/** Each party's microphone is a sine of its own at −15 dBFS; the speaker is recorded. */
const TONES = { local: 500, first: 1000, second: 1500 } as const;
type Party = keyof typeof TONES;

describe('3-way conference (mix-minus)', () => {
  it('before: two separate calls; joined: everyone hears the other two and not itself; split: separate again', async () => {
    const wavs: Record<Party, string> = { local: ve.path('local.wav'), first: ve.path('first.wav'), second: ve.path('second.wav') };
    const party = (p: Party): TestEngine =>
      ve.open({ sampleRateHz: RATE, audio: { backend: 'file', capture: { toneHz: TONES[p], levelDbfs: -15 }, playbackWavPath: wavs[p] } });
    const local = party('local');
    const first = party('first');
    const second = party('second');
    const [toFirst] = ve.connect(local, first);
    const [toSecond] = ve.connect(local, second);
    const all = [local, first, second];
    ve.step(all, 1000);
    local.engine.joinConference([toFirst, toSecond]);
    expect(local.engine.getAudioStats().conference).toEqual([toFirst.id, toSecond.id]);
    ve.step(all, 2000);
    local.engine.splitConference();
    ve.step(all, 1000);
    await ve.close();

    const heard = Object.fromEntries((Object.keys(wavs) as Party[]).map((p) => [p, readWav(wavs[p]).samples])) as Record<Party, Int16Array>;
    const level = (who: Party, of: Party, fromMs: number, toMs: number) =>
      toneLevelDbfs(heard[who], RATE, TONES[of], samplesOf(fromMs, RATE), samplesOf(toMs, RATE));
    const table = (fromMs: number, toMs: number) =>
      Object.fromEntries((Object.keys(TONES) as Party[]).map((who) => [who, Object.fromEntries((Object.keys(TONES) as Party[]).map((of) => [of, Math.round(level(who, of, fromMs, toMs) * 10) / 10]))]));
    const before = table(300, 1000);
    const joined = table(1300, 3000);
    const after = table(3300, 4000);
    console.log('tone levels (dBFS) heard by [row] of [column]: before', before, 'joined', joined, 'after', after);

    const parties = Object.keys(TONES) as Party[];
    const audible = (x: number) => x > -16.5 && x < -13.5; // the −15 dBFS sines, through PCMU once or twice
    const silent = (x: number) => x < -55;
    for (const who of parties) {
      for (const of of parties) {
        const j = joined[who]![of]!;
        // Joined: exactly the other two, at their level; never oneself.
        expect(who === of ? silent(j) : audible(j), `${who} hears ${of} at ${j} dBFS while joined`).toBe(true);
        // Separate calls: the local user hears both; each remote hears only the local user.
        for (const [phase, t] of [['before', before], ['after', after]] as const) {
          const x = t[who]![of]!;
          const expected = who === of ? false : who === 'local' || of === 'local';
          expect(expected ? audible(x) : silent(x), `${who} hears ${of} at ${x} dBFS ${phase}`).toBe(true);
        }
      }
    }
  });

  it('a conference needs 2 distinct streams of this engine; closing a leg leaves a plain call', () => {
    const local = ve.open({ sampleRateHz: RATE, audio: { backend: 'null' } });
    const other = ve.open({ sampleRateHz: RATE, audio: { backend: 'null' } });
    const [a, b] = [local, local].map((t) => t.engine.createStream({ local: { address: '127.0.0.1' }, codec: { name: 'PCMU' } })) as [
      ReturnType<typeof local.engine.createStream>,
      ReturnType<typeof local.engine.createStream>,
    ];
    const foreign = other.engine.createStream({ local: { address: '127.0.0.1' }, codec: { name: 'PCMU' } });
    expect(() => local.engine.joinConference([a])).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CONFIG' }));
    expect(() => local.engine.joinConference([a, a])).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CONFIG' }));
    expect(() => local.engine.joinConference([a, foreign])).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CONFIG', field: 'streams' }));
    local.engine.joinConference([a, b]);
    b.close();
    expect(local.engine.getAudioStats().conference).toEqual([]);
    expect(() => local.engine.joinConference([a, b])).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_NO_STREAM' }));
  });

  it('the mock engine keeps the conference the same way', () => {
    const engine = new MockMediaEngine();
    const a = engine.createStream({ local: { address: '0.0.0.0' }, codec: { name: 'PCMU' } });
    const b = engine.createStream({ local: { address: '0.0.0.0' }, codec: { name: 'PCMU' } });
    engine.joinConference([a, b]);
    expect(engine.getAudioStats().conference).toEqual([a.id, b.id]);
    b.close();
    expect(engine.conference).toEqual([]);
    expect(() => engine.joinConference([a, b])).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_NO_STREAM' }));
    engine.splitConference();
    expect(engine.calls.map((c) => c.method)).toEqual(['createStream', 'createStream', 'joinConference', 'close', 'splitConference']);
  });
});
